import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { labPaths } from "../../lab/index.ts";
import { killTree, sh, sleep, waitPidGone } from "../processes.ts";

/**
 * The host's PostgreSQL 15 run inside a lab node's namespace, as the OS user postgres, for the
 * baselines (the node image has no repmgr, and Patroni starts the server itself). Each node
 * keeps its files on its own disk folder, and its own socket folder: the nodes share one
 * filesystem (LAB.md pitfall 13), so the default /var/run/postgresql would be shared.
 */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface HostPgLayout {
  readonly dir: string;
  readonly data: string;
  readonly socketDir: string;
  readonly log: string;
}

export function hostPgLayout(system: string, node: string): HostPgLayout {
  const dir = join(labPaths().node(node).disk, `bench-${system}`);
  return { dir, data: join(dir, "data"), socketDir: join(dir, "run"), log: join(dir, "postgres.log") };
}

/** The postmaster's PID from its pid file, if the file is there. */
export function postmasterPid(data: string): number | undefined {
  const file = join(data, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** SIGKILL to the postmaster and every backend at once: a container's `docker kill`. */
export async function killPostgres(data: string): Promise<void> {
  const pid = postmasterPid(data);
  if (pid === undefined) throw new Error(`no postmaster.pid in ${data}`);
  killTree(pid);
  await waitPidGone(pid, 5_000);
}

/** Stops a server the bench started (fast shutdown, then SIGKILL), by its pid file. */
export async function stopPostgres(node: string, layout: HostPgLayout): Promise<void> {
  const pid = postmasterPid(layout.data);
  if (pid === undefined) return;
  await sh([`${PG_BIN}/pg_ctl`, "-D", layout.data, "-m", "fast", "-w", "-t", "10", "stop"], {
    netns: node,
    user: "postgres",
    allowFailure: true,
  });
  if (!(await waitPidGone(pid, 2_000))) killTree(pid);
  await sleep(100);
}

/** The postgres OS user's ids, from /etc/passwd (the host's PostgreSQL package made it). */
export function postgresOwner(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (!uid || !gid) throw new Error("no postgres user in /etc/passwd (is postgresql-15 installed?)");
  return { uid: Number(uid), gid: Number(gid) };
}
