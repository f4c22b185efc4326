import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { NodeConfig, SiteConfig } from "../../../config/schema.ts";
import type { ContainerSpec, Containers, ExecResult } from "../../adapters/containers.ts";
import { PGDATA, postgresDataPath, SUPERUSER } from "../../deploy/postgres-config.ts";
import {
  highestHistoryTimeline,
  parseWalEndOutput,
  WAL_END_SCRIPT,
  type WalEnd,
} from "../../remediation/wal-end.ts";
import { tail } from "../deploy/postgres-failure.ts";
import { AS_POSTGRES, OWN_FOLDER, oneShot } from "../deploy/postgres-one-shot.ts";
import { ActionFailure } from "./action-run.ts";

/** Remediation's one-shot PostgreSQL tools, in the node's image on the node's data folder (stopped). */

async function walFiles(folder: string): Promise<string[]> {
  try {
    return await readdir(join(folder, "pg_wal"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** pg_controldata and pg_waldump of a stopped server, its folder mounted read-only. */
export async function readWalEnd(
  containers: Containers,
  site: SiteConfig,
  node: NodeConfig,
  signal?: AbortSignal,
): Promise<WalEnd> {
  const folder = postgresDataPath(site, node);
  const historyTimeline = highestHistoryTimeline(await walFiles(folder));
  const spec: ContainerSpec = {
    ...oneShot(site, node, "wal-end", WAL_END_SCRIPT, { HISTORY_TLI: String(historyTimeline) }),
    binds: [`${folder}:${PGDATA}:ro`],
  };
  const result = await containers.runOnce(spec, signal ? { signal } : {});
  const output = `${result.stdout}\n${result.stderr}`;
  const parsed = result.exitCode === 0 ? parseWalEndOutput(output) : undefined;
  if (!parsed) {
    throw new ActionFailure(
      "postgres-failed",
      `pg_controldata could not read ${folder} on ${node.name} (exit code ${result.exitCode})`,
      "the data folder's global/pg_control is unreadable: read the output below",
      tail(output),
    );
  }
  return parsed;
}

/**
 * pg_rewind of this node's stopped folder from the primary, as the superuser (pg_rewind reads
 * files through SQL functions only a superuser may call). No -R: it would write the source's
 * own conninfo, whose user may have no replication entry (LAB.md pitfall 10); the caller writes
 * standby.signal and primary_conninfo itself. An unclean folder (a docker kill) is first taken
 * through crash recovery by pg_rewind itself.
 */
export async function rewind(
  containers: Containers,
  site: SiteConfig,
  node: NodeConfig,
  primaryAddress: string,
  superuserPassword: string,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const source = `host=${primaryAddress} port=${site.postgres.port} user=${SUPERUSER} dbname=postgres`;
  const command = `${AS_POSTGRES} pg_rewind -D "$PGDATA" --source-server="${source}" --progress`;
  // The password goes by environment; the one-shot container is removed as soon as it ends.
  return containers.runOnce(
    oneShot(site, node, "rewind", `${OWN_FOLDER}\n${command}`, {
      PGPASSWORD: superuserPassword,
      PGAPPNAME: `pg_rewind ${node.name}`,
    }),
    signal ? { signal } : {},
  );
}
