import type { ContainerState } from "../../adapters/containers.ts";
import { POSTGRES_COMPONENT } from "../../deploy/postgres-config.ts";
import type { AgentContext } from "../agent-context.ts";
import { PostgresStepFailure } from "../deploy/postgres-failure.ts";
import { requireSecrets, serverParts } from "../deploy/postgres-parts.ts";
import type { ServerParts } from "../deploy/postgres-run.ts";
import { ActionFailure } from "./action-run.ts";
import type { PgTarget } from "./postgres-client.ts";

/** This node's PostgreSQL as the remediation actions work with it: the deploy's parts, plus SQL over TCP. */
export interface PostgresHere extends ServerParts {
  readonly target: PgTarget;
  /** "pg-node01 on node01", for sentences. */
  readonly label: string;
}

/** `sql`: the action logs in to the server, so the agent must hold the passwords. */
export function postgresHere(context: AgentContext, sql = true): PostgresHere {
  if (sql) requireSecrets(context);
  const parts = serverParts(context);
  return {
    ...parts,
    target: {
      host: context.node.address,
      port: context.site.postgres.port,
      password: context.secrets.pgPassword,
    },
    label: `${parts.spec.name} on ${context.node.name}`,
  };
}

/** The container, when it exists; one of the same name that harbor-ha did not make is never touched. */
export async function inspectOurs(here: PostgresHere): Promise<ContainerState | undefined> {
  const state = await here.containers.inspect(here.spec.name);
  if (state && state.component !== POSTGRES_COMPONENT) {
    throw new ActionFailure(
      "not-deployed",
      `${here.spec.name} on ${here.node.name} was not made by harbor-ha (component label ${state.component ?? "none"}): left alone`,
      `rename or remove it (docker rm ${here.spec.name}), then deploy`,
    );
  }
  return state;
}

/** The container must exist: actions that start or promote have nothing to work on otherwise. */
export async function requireContainer(here: PostgresHere): Promise<ContainerState> {
  const state = await inspectOurs(here);
  if (!state) {
    throw new ActionFailure(
      "not-deployed",
      `${here.node.name} has no PostgreSQL container ${here.spec.name}`,
      "deploy the site first (harbor-ha deploy)",
    );
  }
  return state;
}

/** Waits until the started server answers; a container that stops meanwhile fails with its log. */
export async function waitStarted(here: PostgresHere, signal: AbortSignal): Promise<void> {
  try {
    await here.server.waitReady(here.node.name, here.port, signal);
  } catch (error) {
    if (!(error instanceof PostgresStepFailure)) throw error;
    throw new ActionFailure("start-failed", error.message, error.hint, error.outputTail);
  }
}
