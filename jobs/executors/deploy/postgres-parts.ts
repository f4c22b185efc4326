import { Containers } from "../../adapters/containers.ts";
import { postgresContainerSpec, postgresDataPath } from "../../deploy/postgres-config.ts";
import type { AgentContext } from "../agent-context.ts";
import { DataFolder } from "./postgres-data-folder.ts";
import { PostgresStepFailure } from "./postgres-failure.ts";
import type { ServerParts } from "./postgres-run.ts";
import { PostgresServer } from "./postgres-server.ts";

/** The parts of a node's PostgreSQL both server steps work with. */
export function serverParts(context: AgentContext): ServerParts {
  const containers = new Containers(context.docker);
  const spec = postgresContainerSpec(context.site, context.node);
  return {
    containers,
    spec,
    server: new PostgresServer(containers, spec.name, context.site.postgres.port),
    folder: new DataFolder(postgresDataPath(context.site, context.node)),
    node: context.node,
    port: context.site.postgres.port,
  };
}

export function requireSecrets(context: AgentContext): void {
  const { site, secrets } = context;
  const missing = [
    ...(secrets.pgPassword ? [] : [site.postgres.superuser.passwordEnv]),
    ...(secrets.replicationPassword ? [] : [site.postgres.replication.passwordEnv]),
  ];
  if (missing.length > 0) {
    throw new PostgresStepFailure(
      `the agent on ${context.node.name} has no ${missing.join(" or ")}`,
      `start the agent with ${missing.join(" and ")} in its environment`,
    );
  }
}

/** The image must be on the node: no registry is asked for it (the node may reach none). */
export async function requireImage(context: AgentContext): Promise<void> {
  const image = context.site.postgres.image;
  try {
    await context.docker.getImage(image).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    throw new PostgresStepFailure(
      `the image ${image} (postgres.image) is not on ${context.node.name}`,
      `load it into ${context.node.name}'s Docker (docker load, or harbor-ha lab up in the lab), or fix postgres.image`,
    );
  }
}
