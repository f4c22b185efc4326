import type { NodeConfig, SiteConfig } from "../../../config/schema.ts";
import type { ContainerSpec, Containers, ExecResult } from "../../adapters/containers.ts";
import { PGDATA, postgresContainerName, postgresDataPath, SUPERUSER } from "../../deploy/postgres-config.ts";
import { type ControlData, parseControlData } from "../../deploy/postgres-controldata.ts";
import { PostgresStepFailure, tail } from "./postgres-failure.ts";

/**
 * The one-shot containers of the PostgreSQL steps (initdb, pg_basebackup, pg_controldata of a
 * stopped server), run from the node's image with the node's data folder mounted. They start as
 * root only to hand the folder to the image's postgres user (whose uid only the image knows),
 * then run the tool as that user.
 */

const ONE_SHOT_COMPONENT = "postgres-tool";

/** A one-shot container of the node's image with its data folder at $PGDATA (remediation's tools use it too). */
export function oneShot(
  site: SiteConfig,
  node: NodeConfig,
  tool: string,
  script: string,
  env = {},
): ContainerSpec {
  return {
    name: `${postgresContainerName(node.name)}-${tool}`,
    image: site.postgres.image,
    component: ONE_SHOT_COMPONENT,
    cmd: ["sh", "-ec", script],
    user: "root",
    env: { PGDATA, ...env },
    binds: [`${postgresDataPath(site, node)}:${PGDATA}`],
  };
}

export const OWN_FOLDER = `chown ${SUPERUSER}:${SUPERUSER} "$PGDATA" && chmod 0700 "$PGDATA"`;
export const AS_POSTGRES = `exec runuser -u ${SUPERUSER} --`;

async function runTool(
  containers: Containers,
  spec: ContainerSpec,
  what: string,
  hint: (output: string) => string,
): Promise<ExecResult> {
  const result = await containers.runOnce(spec);
  if (result.exitCode !== 0) {
    const output = `${result.stdout}\n${result.stderr}`;
    throw new PostgresStepFailure(
      `${what} failed (exit code ${result.exitCode})`,
      hint(output),
      tail(output),
    );
  }
  return result;
}

/** A new cluster with data checksums; local connections by peer, network ones by scram only. */
export async function initdb(containers: Containers, site: SiteConfig, node: NodeConfig): Promise<void> {
  const command = [
    AS_POSTGRES,
    'initdb -D "$PGDATA" --data-checksums --username=postgres --auth-local=peer',
    "--auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8",
  ].join(" ");
  await runTool(
    containers,
    oneShot(site, node, "initdb", `${OWN_FOLDER}\n${command}`),
    `initdb on ${node.name}`,
    () => `is ${site.postgres.image} present on ${node.name} and does it hold PostgreSQL? (docker images)`,
  );
}

export function basebackupHint(output: string, primary: string): string {
  if (/password authentication failed/i.test(output)) {
    return `the replication password differs from the one ${primary} was set up with: re-run postgres.primary on ${primary}`;
  }
  if (/no pg_hba.conf entry/i.test(output)) {
    return `${primary}'s pg_hba.conf has no replication entry for this node: re-run postgres.primary on ${primary}`;
  }
  if (/Connection refused|could not connect/i.test(output)) {
    return `${primary}'s PostgreSQL does not answer: run postgres.primary on ${primary} first`;
  }
  if (/No space left/i.test(output)) return "the node's disk is full";
  return "read the output below";
}

/** A standby's copy of the primary, streaming the WAL it needs (-X stream) while it copies. */
export async function basebackup(
  containers: Containers,
  site: SiteConfig,
  node: NodeConfig,
  primary: NodeConfig,
  replicationPassword: string,
): Promise<void> {
  const command = [
    AS_POSTGRES,
    `pg_basebackup -D "$PGDATA" -h ${primary.address} -p ${site.postgres.port}`,
    `-U ${site.postgres.replication.user} --no-password -X stream --checkpoint=fast`,
  ].join(" ");
  // The password goes by environment; the one-shot container is removed as soon as it ends.
  const spec = oneShot(site, node, "basebackup", `${OWN_FOLDER}\n${command}`, {
    PGPASSWORD: replicationPassword,
    PGAPPNAME: `pg_basebackup ${node.name}`,
  });
  await runTool(containers, spec, `pg_basebackup of ${node.name} from ${primary.name}`, (output) =>
    basebackupHint(output, primary.name),
  );
}

/** pg_controldata of a folder whose server is not running, mounted read-only. */
export async function controlDataOffline(
  containers: Containers,
  site: SiteConfig,
  node: NodeConfig,
): Promise<ControlData> {
  const spec = oneShot(site, node, "controldata", `${AS_POSTGRES} pg_controldata -D "$PGDATA"`);
  const readOnly: ContainerSpec = { ...spec, binds: [`${postgresDataPath(site, node)}:${PGDATA}:ro`] };
  const result = await runTool(
    containers,
    readOnly,
    `pg_controldata on ${node.name}`,
    () => "the data folder's global/pg_control is unreadable",
  );
  const parsed = parseControlData(result.stdout);
  if (!parsed) {
    throw new PostgresStepFailure(
      `pg_controldata on ${node.name} printed no cluster state`,
      "read the output below",
      tail(result.stdout),
    );
  }
  return parsed;
}
