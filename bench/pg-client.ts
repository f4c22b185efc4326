import pg from "pg";
import { closePg } from "../test/support/lab-postgres.ts";

export interface PgTarget {
  readonly host: string;
  readonly password: string;
  readonly user?: string;
}

/** Runs statements in order on a fresh connection; the last one's rows. Bounded by `timeoutMs`. */
export async function pgQuery<T extends pg.QueryResultRow>(
  target: PgTarget,
  sql: string | readonly string[],
  timeoutMs = 1_000,
): Promise<T[]> {
  const client = new pg.Client({
    host: target.host,
    port: 5432,
    user: target.user ?? "postgres",
    password: target.password,
    database: "postgres",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    let rows: T[] = [];
    for (const statement of typeof sql === "string" ? [sql] : sql)
      rows = (await client.query<T>(statement)).rows;
    return rows;
  } finally {
    await closePg(client);
  }
}

/** True when the server answers and is not in recovery; false for a standby or no answer. */
export async function isPrimary(target: PgTarget, timeoutMs = 500): Promise<boolean> {
  try {
    const [row] = await pgQuery<{ standby: boolean }>(
      target,
      "select pg_is_in_recovery() as standby",
      timeoutMs,
    );
    return row?.standby === false;
  } catch {
    return false;
  }
}
