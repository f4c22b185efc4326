import pg from "pg";
import { tcpProbe } from "../../../support/tcp-probe.ts";

/**
 * What the agent asks PostgreSQL servers over TCP, as any client of the site would: the agent
 * runs in its node's network, so these also prove the addresses, pg_hba and the passwords.
 */

const CONNECT_TIMEOUT_MS = 5_000;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface SystemIdentity {
  readonly systemIdentifier: string;
  readonly timeline: number;
}

/** Turns a pg error into a sentence: SQLSTATE codes for the usual ones, the message otherwise. */
export function describePgError(error: unknown, endpoint: Pick<Endpoint, "host" | "port" | "user">): string {
  const { code, message } = error as { code?: string; message?: string };
  const where = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
  switch (code) {
    case "28P01":
      return `${where}: password authentication failed`;
    case "28000":
      return `${where}: refused by pg_hba.conf (${message ?? ""})`;
    case "ECONNREFUSED":
      return `${where}: connection refused (no server listens there)`;
    default:
      return `${where}: ${message ?? String(error)}`;
  }
}

/**
 * IDENTIFY_SYSTEM over a physical replication connection: the same user, password and pg_hba
 * entry that pg_basebackup and the standby's WAL receiver will use, so a success here means
 * they will get in too.
 */
export async function identifySystem(endpoint: Endpoint): Promise<SystemIdentity> {
  const config: pg.ClientConfig & { replication: string } = {
    ...endpoint,
    database: "replication",
    replication: "true",
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "harbor-ha",
  };
  const client = new pg.Client(config);
  client.on("error", () => {});
  try {
    await client.connect();
    const result = await client.query<{ systemid: string; timeline: string | number }>("IDENTIFY_SYSTEM");
    const row = result.rows[0];
    if (!row) throw new Error("IDENTIFY_SYSTEM returned no row");
    return { systemIdentifier: String(row.systemid), timeline: Number(row.timeline) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Logs in as a client would and runs one query; the error is described, not thrown raw. */
export async function queryAs<T extends pg.QueryResultRow>(
  endpoint: Endpoint,
  database: string,
  sql: string,
): Promise<T | undefined> {
  const client = new pg.Client({ ...endpoint, database, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.query<T>(sql)).rows[0];
  } finally {
    await client.end().catch(() => {});
  }
}

/** True when something accepts TCP connections on address:port (checked before our server starts). */
export async function portTaken(address: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return (await tcpProbe(address, port, timeoutMs)) === "connected";
}
