import type Docker from "dockerode";
import pg from "pg";
import { COMPONENT_LABEL } from "../jobs/adapters/containers.ts";

export type PostgresRole = "primary" | "standby" | "stopped" | "absent" | "unknown";

export interface PostgresRoleObservation {
  readonly role: PostgresRole;
  readonly detail: string;
  readonly durationMs: number;
}

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

/**
 * Which role this node's PostgreSQL plays: asks the server itself (pg_is_in_recovery) and, when
 * it does not answer, the node's Docker for a managed postgres container. Never throws; reads only.
 */
export async function probePostgresRole(
  target: PostgresTarget,
  docker: Docker,
  timeoutMs: number,
): Promise<PostgresRoleObservation> {
  const started = performance.now();
  const done = (role: PostgresRole, detail: string) => ({
    role,
    detail,
    durationMs: performance.now() - started,
  });
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: "postgres",
    password: target.password,
    database: "postgres",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const result = await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery");
    const recovery = result.rows[0]?.recovery;
    return recovery ? done("standby", "in recovery") : done("primary", "accepting writes");
  } catch (error) {
    const reason = (error as Error).message;
    try {
      const containers = await docker.listContainers({
        all: true,
        filters: { label: [`${COMPONENT_LABEL}=postgres`] },
      });
      if (containers.length === 0) return done("absent", `no postgres container (${reason})`);
      const running = containers.some((container) => container.State === "running");
      return done(
        running ? "unknown" : "stopped",
        `${containers[0]?.Names[0] ?? "container"} ${containers[0]?.State}: ${reason}`,
      );
    } catch (dockerError) {
      return done("unknown", `${reason}; Docker: ${(dockerError as Error).message}`);
    }
  } finally {
    await client.end().catch(() => {});
  }
}
