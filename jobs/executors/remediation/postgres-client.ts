import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { PostgresFacts } from "../../../probes/observation.ts";
import { POSTGRES_STATUS_SQL, postgresFactsFromStatus } from "../../../probes/postgres-facts.ts";
import { SUPERUSER } from "../../deploy/postgres-config.ts";
import { describePgError } from "../deploy/postgres-network.ts";
import { ActionFailure } from "./action-run.ts";

/**
 * SQL for remediation, over TCP as the superuser, the way the probes ask: a round trip costs
 * milliseconds where `docker exec psql` costs a tenth of a second, and a failover counts them.
 */

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

const CONNECT_TIMEOUT_MS = 3_000;
/** No single statement of ours may hang an action: pg_promote waits on its own terms. */
const STATEMENT_TIMEOUT_MS = 40_000;
const POLL_MS = 100;

/** A client for the node's server as the superuser; a connection error never goes unhandled. */
function actionClient(target: PgTarget, limits: pg.ClientConfig): pg.Client {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: SUPERUSER,
    password: target.password,
    database: "postgres",
    application_name: "harbor-ha-action",
    ...limits,
  });
  client.on("error", () => {});
  return client;
}

/** One session for `work`, always closed; an abort of the job ends the session at once. */
export async function withSession<T>(
  target: PgTarget,
  signal: AbortSignal,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const client = actionClient(target, {
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  const end = () => void client.end().catch(() => {});
  signal.addEventListener("abort", end, { once: true });
  try {
    await client.connect();
    return await work(client);
  } finally {
    signal.removeEventListener("abort", end);
    await client.end().catch(() => {});
  }
}

/**
 * Does the server answer a query within `timeoutMs`? A frozen server (SIGSTOP, a hung disk)
 * accepts the TCP connection in the kernel and then says nothing.
 */
export async function answers(target: PgTarget, timeoutMs: number): Promise<boolean> {
  const client = actionClient(target, { connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    void client.end().catch(() => {});
  }
}

/** The server's role, timeline, LSNs and WAL receiver: the probes' own query and parser. */
export async function readFacts(client: pg.Client): Promise<PostgresFacts> {
  const [row] = (await client.query<Record<string, unknown>>(POSTGRES_STATUS_SQL)).rows;
  if (!row) throw new Error("the status query returned no row");
  return postgresFactsFromStatus(row);
}

/** The facts in a session of their own; a server that does not answer is an expected failure. */
export async function askFacts(target: PgTarget, signal: AbortSignal, who: string): Promise<PostgresFacts> {
  try {
    return await withSession(target, signal, readFacts);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ActionFailure(
      "postgres-failed",
      `${who} does not answer: ${describePgError(error, { ...target, user: SUPERUSER })}`,
      `is it starting, or refusing the agent? read its log (docker logs on its node)`,
    );
  }
}

/**
 * Polls the server's facts until `done` holds or the deadline (ms since the epoch) passes; a
 * session that fails meanwhile (the server still starting) is tried again. Returns the last facts.
 */
export async function waitForFacts(
  target: PgTarget,
  signal: AbortSignal,
  deadline: number,
  done: (facts: PostgresFacts) => boolean,
): Promise<{ facts: PostgresFacts | undefined; met: boolean; error?: string }> {
  let facts: PostgresFacts | undefined;
  let error: string | undefined;
  for (;;) {
    try {
      facts = await withSession(target, signal, readFacts);
      error = undefined;
      if (done(facts)) return { facts, met: true };
    } catch (cause) {
      if (signal.aborted) throw cause;
      error = describePgError(cause, { ...target, user: SUPERUSER });
    }
    if (Date.now() >= deadline) return { facts, met: false, ...(error ? { error } : {}) };
    await sleep(POLL_MS, undefined, { signal });
  }
}

/** A standby that streams, from `senderHost` when given. */
export function isStreaming(facts: PostgresFacts, senderHost?: string): boolean {
  return (
    facts.role === "standby" &&
    facts.walReceiver?.status === "streaming" &&
    (senderHost === undefined || facts.walReceiver.senderHost === senderHost)
  );
}

/**
 * One row written and committed, the proof that a server accepts writes. The row lives in
 * harbor-ha's own schema (the controller's canary uses the same table); the commit waits for the
 * local disk only, since a new primary has no synchronous standby yet.
 */
export async function verifyWrite(client: pg.Client, writer: string): Promise<void> {
  try {
    await client.query("set synchronous_commit = local");
    const makeCanary = () =>
      client.query(`create schema if not exists harbor_ha;
      create table if not exists harbor_ha.canary (writer text primary key, written_at timestamptz not null)`);
    // "if not exists" is not safe against a concurrent maker (the controller's write through the
    // VIP on a just-promoted primary): the loser gets unique_violation, and the second try sees it.
    await makeCanary().catch((error: { code?: string }) => {
      if (error.code !== "23505") throw error;
      return makeCanary();
    });
    await client.query(
      `insert into harbor_ha.canary values ($1, now())
         on conflict (writer) do update set written_at = excluded.written_at`,
      [writer],
    );
  } catch (error) {
    throw new ActionFailure(
      "write-failed",
      `a write was refused: ${(error as Error).message}`,
      "is it read-only (default_transaction_read_only, a standby) or out of disk? read its log",
    );
  }
}
