import pg from "pg";
import type { SiteConfig } from "../../config/schema.ts";
import type { HarborFacts, ProbeReading } from "../../probes/observation.ts";
import { harborBaseUrl, readHarborHealth } from "../deploy/harbor-health.ts";
import type { ThroughVipChecks, VipWriteFacts } from "./snapshot.ts";

/**
 * The controller's own checks, as a client sees the site: a canary write to PostgreSQL through
 * the VIP (the only proof that the VIP leads to a writable primary) and Harbor's health through
 * the VIP. They write one row in their own schema and nothing else; they never throw.
 */
export async function checkThroughVip(
  site: SiteConfig,
  pgPassword: string | undefined,
  timeoutMs: number,
): Promise<ThroughVipChecks> {
  const checkedAt = Date.now();
  const [postgresWrite, harbor] = await Promise.all([
    canaryWrite(site, pgPassword, timeoutMs),
    harborThroughVip(site, timeoutMs),
  ]);
  return { checkedAt, postgresWrite, harbor };
}

const CANARY_SQL = `
  create schema if not exists harbor_ha;
  create table if not exists harbor_ha.canary (writer text primary key, written_at timestamptz not null);`;

function canaryClient(site: SiteConfig, password: string, timeoutMs: number): pg.Client {
  const client = new pg.Client({
    host: site.vip.address,
    port: site.postgres.port,
    user: "postgres",
    password,
    database: "postgres",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "harbor-ha-canary",
  });
  client.on("error", () => {});
  return client;
}

async function canaryWrite(
  site: SiteConfig,
  password: string | undefined,
  timeoutMs: number,
): Promise<ProbeReading<VipWriteFacts>> {
  const started = performance.now();
  const failed = (error: string) => ({ ok: false as const, error, durationMs: performance.now() - started });
  if (!password) return failed(`not checked: ${site.postgres.superuser.passwordEnv} is not set`);
  const client = canaryClient(site, password, timeoutMs);
  let backendPid: number | undefined;
  try {
    await client.connect();
    backendPid = (client as unknown as { processID: number | null }).processID ?? undefined;
    // Schema and table once per server is enough, but a new primary after a failover may be a
    // clone from before they existed: "if not exists" costs little and keeps the check simple.
    await client.query(CANARY_SQL);
    const result = await client.query<{ server: string | null }>(
      `insert into harbor_ha.canary values ($1, now())
         on conflict (writer) do update set written_at = excluded.written_at
         returning current_setting('cluster_name') as server`,
      [`controller-${site.site}`],
    );
    return {
      ok: true,
      serverNode: result.rows[0]?.server || null,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    if (backendPid !== undefined) await terminateBackend(site, password, backendPid, timeoutMs);
    return failed((error as Error).message);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A commit that waits for a synchronous standby ignores statement_timeout and the client going
 * away: its backend would wait on, one more per check, until PostgreSQL refuses connections
 * ("too many clients"). Ending it from a second connection frees the slot; the row it wrote is
 * the canary's own.
 */
async function terminateBackend(site: SiteConfig, password: string, pid: number, timeoutMs: number) {
  const client = canaryClient(site, password, timeoutMs);
  try {
    await client.connect();
    await client.query("select pg_terminate_backend($1)", [pid]);
  } catch {
    // The server is gone or hung: nothing waits on it then.
  } finally {
    await client.end().catch(() => {});
  }
}

async function harborThroughVip(site: SiteConfig, timeoutMs: number): Promise<ProbeReading<HarborFacts>> {
  const started = performance.now();
  const reading = await readHarborHealth(harborBaseUrl(site.vip.address, site.harbor.httpPort), timeoutMs);
  const durationMs = performance.now() - started;
  return reading.ok
    ? { ok: true, healthy: reading.health.healthy, components: reading.health.components, durationMs }
    : { ok: false, error: reading.error, durationMs };
}
