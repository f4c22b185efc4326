/**
 * The remediation actions on the real lab, driven only through the agents' jobs (NodeJobs.send)
 * under a controller lease this test sets itself: a manual failover from node01 to node02 and
 * node01's rejoin, promote run twice, a killed standby restarted, a planned switchover's write
 * block and replay wait, a Harbor restart, a crashed primary's failover with its loss and a real
 * pg_rewind, a folder pg_rewind refuses (and its approved re-clone), and a job under a stale token
 * that changes nothing.
 * Run with: flock /tmp/harbor-ha-lab.lock node --import tsx --test test/lab/remediation-actions.test.ts
 * (root; no lab may be up: the file brings its own up and always takes it down).
 *
 * Assertions are on what the actions did and what the site looks like afterwards, never on how
 * fast: each action's time is reported as a test diagnostic.
 */

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Docker from "dockerode";
import type { Redis } from "ioredis";
import type pg from "pg";
import { ADDRESS, NODES, VIP } from "../../bench/lab-facts.ts";
import { loadSiteConfig } from "../../config/load.ts";
import { nodeDataPath } from "../../config/node-paths.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { controllerLeaseKey, formatControllerLease } from "../../jobs/controller-lease-key.ts";
import type { JobName, JobRequest, JobResult } from "../../jobs/job-types.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { createLogger } from "../../support/logger.ts";
import { labQuery } from "../support/lab-postgres.ts";
import { labRedisCredentials, openLabRedis } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";
import { runCli } from "../support/processes.ts";
import { vipHolders } from "../support/vip.ts";

const logger = createLogger({
  component: "remediation-lab-test",
  level: "warn",
  destination: process.stderr,
});
const lab = ownLab(logger);
const paths = labPaths();
const SITE = "lab";
const DEPLOY_TIMEOUT_MS = 600_000;
/** keepalived's election after a start or a priority change: 3 adverts, a skew, a margin. */
const VRRP_SETTLE_MS = 6_000;

let env: Record<string, string> = {};
let site: SiteConfig | undefined;
let jobs: NodeJobs | undefined;
let redis: Redis | undefined;
let token = 1;

async function setLease(value: number): Promise<void> {
  assert.ok(redis);
  token = value;
  const lease = { holder: "remediation-lab-test", token: value, expiresAt: Date.now() + 3_600_000 };
  await redis.set(controllerLeaseKey(SITE), formatControllerLease(lease));
}

/** Sends one action under the current token, reports its time, and returns its result. */
async function act<N extends JobName>(
  t: TestContext,
  node: string,
  name: N,
  request: Omit<JobRequest<N>, "fencingToken">,
): Promise<JobResult<N>> {
  assert.ok(jobs);
  const { result, roundTripMs } = await jobs.send(node, name, {
    ...request,
    fencingToken: token,
  } as unknown as JobRequest<N>);
  const r = result as unknown as {
    ok: boolean;
    outcome: string;
    detail: string;
    durationMs: number;
    timings: { step: string; ms: number }[];
  };
  const steps = r.timings.map((s) => `${s.step} ${s.ms} ms`).join(", ");
  t.diagnostic(
    `${name} on ${node}: ${r.outcome} in ${r.durationMs} ms on the agent (${Math.round(roundTripMs)} ms round trip) — ${r.detail} [${steps}]`,
  );
  return result;
}

const query = <T extends pg.QueryResultRow>(host: string, sql: string, values: unknown[] = []) =>
  labQuery<T>(host, sql, { password: env.HARBOR_HA_PG_PASSWORD, timeoutMs: 3_000, values });

/** Polls until `check` passes (it throws otherwise) or the time is up; the last failure is the test's. */
async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`${what} did not happen within ${timeoutMs} ms: ${(error as Error).message}`);
      }
      await sleep(200);
    }
  }
}

/** A row written through the VIP, and which node's server took it (cluster_name is the node's name). */
function writeThroughVip(note: string): Promise<{ server: string }[]> {
  return query<{ server: string }>(
    VIP,
    "insert into failover_probe (note) values ($1) returning current_setting('cluster_name') as server",
    [note],
  );
}

/** The nodes whose PostgreSQL answers out of recovery. */
async function primaries(): Promise<string[]> {
  const found: string[] = [];
  for (const node of NODES) {
    const rows = await query<{ standby: boolean }>(
      ADDRESS[node],
      "select pg_is_in_recovery() as standby",
    ).catch(() => []);
    if (rows[0]?.standby === false) found.push(node);
  }
  return found;
}

async function synchronousNames(node: keyof typeof ADDRESS): Promise<string | undefined> {
  const [row] = await query<{ names: string }>(
    ADDRESS[node],
    "select current_setting('synchronous_standby_names') as names",
  );
  return row?.names;
}

async function vipOn(expected: string[]): Promise<void> {
  assert.deepEqual(await vipHolders(NODES, VIP), expected);
}

async function streamingTo(primary: string, standby: string): Promise<void> {
  const rows = await query<{ application_name: string; state: string }>(
    primary,
    "select application_name, state from pg_stat_replication",
  );
  assert.ok(
    rows.some((row) => row.application_name === standby && row.state === "streaming"),
    `pg_stat_replication on ${primary}: ${JSON.stringify(rows)}`,
  );
}

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
  const deployed = await runCli(["--config", paths.config, "deploy"], env, DEPLOY_TIMEOUT_MS);
  assert.equal(deployed.code, 0, `${deployed.stdout}\n${deployed.stderr}`);
  site = (await loadSiteConfig(paths.config)).site;
  jobs = new NodeJobs(site, await readSiteKey(site.security.siteKeyFile), await labRedisCredentials(site));
  redis = await openLabRedis("controller", { maxRetriesPerRequest: 3 });
  await setLease(1);
});

after(async () => {
  await jobs?.close();
  redis?.disconnect();
  await lab.down();
});

test("a manual failover through the jobs: node02 is primary, holds the VIP alone and takes writes through it", async (t) => {
  await eventually("the deployed site settles with the VIP on node01", () => vipOn(["node01"]));
  await query(VIP, "create table if not exists failover_probe (id serial primary key, note text)");
  await query(VIP, "insert into failover_probe (note) values ('before the failover')");

  const stopped = await act(t, "node01", "keepalived.stop", {});
  assert.ok(stopped.ok && stopped.outcome === "done" && stopped.wasRunning, stopped.detail);
  const fenced = await act(t, "node01", "postgres.fence", {});
  assert.ok(fenced.ok && fenced.outcome === "done", fenced.detail);
  assert.equal(fenced.clusterState, "shut down", "a fast shutdown is a clean one");
  assert.equal(fenced.lsnSource, "end-of-wal");
  assert.match(fenced.lastLsn ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
  const again = await act(t, "node01", "postgres.fence", {});
  assert.ok(again.ok && again.outcome === "already", again.detail);
  assert.equal(again.lastLsn, fenced.lastLsn, "a fenced node's WAL does not move");

  const roles = await Promise.all([
    act(t, "node02", "keepalived.set-role", { role: "primary" }),
    act(t, "node01", "keepalived.set-role", { role: "standby" }),
  ]);
  for (const result of roles) assert.ok(result.ok && result.outcome === "done", result.detail);

  // As the controller promotes under postgres.durability synchronous: its peer is fenced, so the
  // new primary commits alone (waiting for node01 would hang every write).
  const promoted = await act(t, "node02", "postgres.promote", {
    oldPrimaryLastLsn: fenced.lastLsn ?? "",
    commitAlone: true,
  });
  assert.ok(promoted.ok && promoted.outcome === "done", promoted.detail);
  assert.equal(promoted.timeline, 2);
  assert.equal(await synchronousNames("node02"), "", "the new primary commits alone");
  assert.equal(promoted.lossBytes, 0, "a clean stop streams everything to the standby first");

  await eventually("the VIP is on node02 alone", () => vipOn(["node02"]));
  const [landed] = await eventually("a write through the VIP", () => writeThroughVip("after the failover"));
  assert.equal(landed?.server, "node02");
  const notes = await query<{ note: string }>(ADDRESS.node02, "select note from failover_probe order by id");
  assert.deepEqual(
    notes.map((row) => row.note),
    ["before the failover", "after the failover"],
  );
});

test("promote on the new primary again says already primary", async (t) => {
  const promoted = await act(t, "node02", "postgres.promote", {});
  assert.ok(promoted.ok && promoted.outcome === "already", promoted.detail);
  assert.match(promoted.detail, /already primary/);
  assert.equal(promoted.timeline, 2);
});

test("node01 rejoins as a standby of node02, and its keepalived comes back without taking the VIP", async (t) => {
  const rejoined = await act(t, "node01", "postgres.rejoin", {
    primary: { node: "node02", address: ADDRESS.node02 },
  });
  assert.ok(rejoined.ok && rejoined.outcome === "done", rejoined.detail);
  assert.ok(rejoined.method === "rewind" || rejoined.method === "none", rejoined.method);
  assert.equal(rejoined.senderHost, ADDRESS.node02);
  await eventually("node02 streams to node01", () => streamingTo(ADDRESS.node02, "node01"));
  const [recovery] = await query<{ standby: boolean }>(
    ADDRESS.node01,
    "select pg_is_in_recovery() as standby",
  );
  assert.equal(recovery?.standby, true);

  const again = await act(t, "node01", "postgres.rejoin", {
    primary: { node: "node02", address: ADDRESS.node02 },
  });
  assert.ok(again.ok && again.outcome === "already", again.detail);

  const started = await act(t, "node01", "keepalived.start", {});
  assert.ok(started.ok && started.outcome === "done", started.detail);
  assert.equal(started.vipHeld, false);
  await sleep(VRRP_SETTLE_MS);
  await vipOn(["node02"]);
});

test("postgres.set-durability: with node01 streaming, node02's commits wait for it again, and alone again on request", async (t) => {
  const waiting = await act(t, "node02", "postgres.set-durability", { alone: false });
  assert.ok(waiting.ok && waiting.outcome === "done", waiting.detail);
  assert.equal(waiting.synchronousStandbyNames, 'ANY 1 ("node01")');
  const again = await act(t, "node02", "postgres.set-durability", { alone: false });
  assert.ok(again.ok && again.outcome === "already", again.detail);
  await eventually("node01 confirms node02's commits", async () => {
    const rows = await query<{ sync_state: string }>(
      ADDRESS.node02,
      "select sync_state from pg_stat_replication where application_name = 'node01'",
    );
    assert.equal(rows[0]?.sync_state, "quorum");
  });
  await query(VIP, "insert into failover_probe (note) values ('confirmed by node01')");

  const alone = await act(t, "node02", "postgres.set-durability", { alone: true });
  assert.ok(alone.ok && alone.outcome === "done", alone.detail);
  assert.equal(await synchronousNames("node02"), "");
  const back = await act(t, "node02", "postgres.set-durability", { alone: false });
  assert.ok(back.ok && back.outcome === "done", back.detail);
});

test("a killed standby is started again by postgres.restart and streams", async (t) => {
  const docker = new Docker({ socketPath: paths.node("node01").dockerSocket });
  await docker.getContainer("pg-node01").kill();
  const restarted = await act(t, "node01", "postgres.restart", {});
  assert.ok(restarted.ok && restarted.outcome === "done", restarted.detail);
  assert.equal(restarted.role, "standby");
  assert.equal(restarted.walReceiver, "streaming");
  assert.equal(restarted.senderHost, ADDRESS.node02);
  await eventually("node02 streams to node01 again", () => streamingTo(ADDRESS.node02, "node01"));
});

test("a switchover's write block: the primary refuses writes, the standby replays its LSN, writes return", async (t) => {
  const blocked = await act(t, "node02", "postgres.block-writes", {});
  assert.ok(blocked.ok && blocked.outcome === "done", blocked.detail);
  await assert.rejects(
    query(VIP, "insert into failover_probe (note) values ('blocked')"),
    /read-only transaction/,
  );
  const blockedAgain = await act(t, "node02", "postgres.block-writes", {});
  assert.ok(blockedAgain.ok && blockedAgain.outcome === "already", blockedAgain.detail);

  const replayed = await act(t, "node01", "postgres.wait-replay", {
    lsn: blocked.currentLsn ?? "",
    timeoutMs: 10_000,
  });
  assert.ok(replayed.ok, replayed.detail);
  assert.equal(replayed.behindBytes, 0);

  const allowed = await act(t, "node02", "postgres.allow-writes", {});
  assert.ok(allowed.ok && allowed.outcome === "done", allowed.detail);
  await query(VIP, "insert into failover_probe (note) values ('writable again')");
});

test("harbor.restart restarts a named component and sees Harbor healthy; unnamed on a healthy node, nothing", async (t) => {
  const restarted = await act(t, "node02", "harbor.restart", { components: ["registry"] });
  assert.ok(restarted.ok && restarted.outcome === "done", restarted.detail);
  assert.deepEqual(restarted.restarted, ["harbor-registry"]);
  const nothing = await act(t, "node02", "harbor.restart", {});
  assert.ok(nothing.ok && nothing.outcome === "already", nothing.detail);
});

test("a crashed primary with writes its standby never got: the loss is reported, and pg_rewind takes them out on rejoin", async (t) => {
  // node01's standby stops streaming (test set-up, by hand) while node02 takes writes; then node02 crashes.
  await query(ADDRESS.node01, "alter system set primary_conninfo = ''");
  await query(ADDRESS.node01, "select pg_reload_conf()");
  await eventually("node01's WAL receiver stops", async () => {
    const [receivers] = await query<{ n: number }>(
      ADDRESS.node01,
      "select count(*)::int as n from pg_stat_wal_receiver",
    );
    assert.equal(receivers?.n, 0);
  });
  // As the controller does once the standby stops streaming: node02 commits alone.
  const alone = await act(t, "node02", "postgres.set-durability", { alone: true });
  assert.ok(alone.ok, alone.detail);
  await query(
    VIP,
    "insert into failover_probe (note) select 'never replicated' from generate_series(1, 1000)",
  );
  await new Docker({ socketPath: paths.node("node02").dockerSocket }).getContainer("pg-node02").kill();
  await query(ADDRESS.node01, "alter system reset primary_conninfo");
  await query(ADDRESS.node01, "select pg_reload_conf()");

  const stopped = await act(t, "node02", "keepalived.stop", {});
  assert.ok(stopped.ok, stopped.detail);
  const fenced = await act(t, "node02", "postgres.fence", {});
  assert.ok(fenced.ok && fenced.outcome === "already" && !fenced.wasRunning, fenced.detail);
  assert.equal(fenced.clusterState, "in production", "a killed server did not shut down");
  assert.equal(fenced.lsnSource, "end-of-wal");
  for (const [node, role] of [
    ["node01", "primary"],
    ["node02", "standby"],
  ] as const) {
    const result = await act(t, node, "keepalived.set-role", { role });
    assert.ok(result.ok, result.detail);
  }
  const promoted = await act(t, "node01", "postgres.promote", {
    oldPrimaryLastLsn: fenced.lastLsn ?? "",
    commitAlone: true,
  });
  assert.ok(promoted.ok && promoted.outcome === "done", promoted.detail);
  assert.equal(promoted.timeline, 3);
  assert.ok(
    (promoted.lossBytes ?? 0) > 0,
    `the 1000 rows node01 never received are reported: ${promoted.lossBytes}`,
  );
  await eventually("the VIP is on node01 alone", () => vipOn(["node01"]));
  const [landed] = await eventually("a write through the VIP", () => writeThroughVip("after the crash"));
  assert.equal(landed?.server, "node01");

  const rejoined = await act(t, "node02", "postgres.rejoin", {
    primary: { node: "node01", address: ADDRESS.node01 },
  });
  assert.ok(rejoined.ok && rejoined.outcome === "done", rejoined.detail);
  assert.equal(rejoined.method, "rewind");
  assert.match(rejoined.divergedAt ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
  await eventually("node01 streams to node02", () => streamingTo(ADDRESS.node01, "node02"));
  const count = "select count(*)::int as n from failover_probe where note = 'never replicated'";
  const [onStandby] = await eventually("node02 replays the new primary's history", async () => {
    const rows = await query<{ n: number }>(ADDRESS.node02, count);
    assert.equal(rows[0]?.n, 0);
    return rows;
  });
  assert.equal(onStandby?.n, 0, "the rows only node02 had are gone from it: it follows node01's history");

  const started = await act(t, "node02", "keepalived.start", {});
  assert.ok(started.ok && !started.vipHeld, started.detail);
  await sleep(VRRP_SETTLE_MS);
  await vipOn(["node01"]);
});

test("a folder pg_rewind cannot use: rejoin says rewind-failed and leaves it; approved, it re-clones", async (t) => {
  const fenced = await act(t, "node02", "postgres.fence", {});
  assert.ok(fenced.ok && fenced.outcome === "done", fenced.detail);
  // A control file that fails its checksum: pg_rewind refuses the folder.
  const node02 = site?.nodes.find((node) => node.name === "node02");
  assert.ok(site && node02);
  await writeFile(
    join(nodeDataPath(node02, site.postgres.dataDir), "global", "pg_control"),
    Buffer.alloc(8192, 7),
  );

  const refused = await act(t, "node02", "postgres.rejoin", {
    primary: { node: "node01", address: ADDRESS.node01 },
  });
  assert.ok(!refused.ok, refused.detail);
  assert.equal(refused.reason, "rewind-failed");
  assert.match(refused.hint, /allowReclone/);
  assert.ok((refused.outputTail ?? "").length > 0, "pg_rewind's output comes with it");
  const docker = new Docker({ socketPath: paths.node("node02").dockerSocket });
  assert.equal((await docker.getContainer("pg-node02").inspect()).State.Running, false, "it stays stopped");

  const recloned = await act(t, "node02", "postgres.rejoin", {
    primary: { node: "node01", address: ADDRESS.node01 },
    allowReclone: true,
  });
  assert.ok(recloned.ok && recloned.outcome === "done", recloned.detail);
  assert.equal(recloned.method, "reclone");
  await eventually("node01 streams to node02", () => streamingTo(ADDRESS.node01, "node02"));
});

test("a job under a stale token is refused and changes nothing", async (t) => {
  const before = await vipHolders(NODES, VIP);
  const [primary] = await primaries();
  assert.ok(primary, "one node runs the primary");
  await setLease(3);
  token = 2;
  const sent = performance.now();
  await assert.rejects(
    act(t, primary, "postgres.fence", {}),
    /request token 2 is not the lease's current token 3/,
  );
  t.diagnostic(
    `postgres.fence on ${primary} under token 2 refused in ${Math.round(performance.now() - sent)} ms`,
  );
  assert.deepEqual(await primaries(), [primary], `${primary}'s PostgreSQL still runs as the primary`);
  assert.deepEqual(await vipHolders(NODES, VIP), before);
  token = 3;
});
