import pg from "pg";

export interface LabQueryOptions {
  readonly password: string | undefined;
  readonly user?: string;
  readonly database?: string;
  /** Connect and statement limit; none when undefined (the caller's test timeout bounds it). */
  readonly timeoutMs?: number;
  readonly values?: unknown[];
}

/**
 * Runs the statements in order on one connection to a lab node's (or the VIP's) PostgreSQL as
 * the superuser, and resolves with the last one's rows; the connection is always closed.
 */
export async function labQuery<T extends pg.QueryResultRow>(
  host: string,
  sql: string | readonly string[],
  options: LabQueryOptions,
): Promise<T[]> {
  const client = new pg.Client({
    host,
    port: 5432,
    user: options.user ?? "postgres",
    password: options.password,
    database: options.database ?? "postgres",
    ...(options.timeoutMs
      ? { connectionTimeoutMillis: options.timeoutMs, query_timeout: options.timeoutMs }
      : {}),
  });
  client.on("error", () => {});
  try {
    await client.connect();
    let rows: T[] = [];
    for (const statement of typeof sql === "string" ? [sql] : sql) {
      rows = (await client.query<T>(statement, options.values)).rows;
    }
    return rows;
  } finally {
    await closePg(client);
  }
}

/**
 * Ends a session without hanging on a peer that has gone: a node cut off or frozen never answers
 * the goodbye, and its socket would keep the process alive for minutes. After a short grace the
 * socket is destroyed.
 */
export async function closePg(client: pg.Client, graceMs = 500): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(timer);
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
