/**
 * The PostgreSQL deploy steps (runbook 1 and 1.5) for real, on the local lab, through the nodes'
 * agents: primary, standby, the four replication checks, a second run that changes nothing,
 * the safety refusals, and a port that is taken.
 * Run with: node --import tsx --test test/lab/deploy-postgres.test.ts   (root; no lab may be up)
 *
 * The tests share one lab and run in order. Cleanup runs even when an assertion fails, but never
 * tears down a lab this file did not bring up.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { Socket } from "node:net";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import Docker from "dockerode";
import type pg from "pg";
import { loadSiteConfig } from "../../config/load.ts";
import { nodeDataPath } from "../../config/node-paths.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey } from "../../config/site-key.ts";
import type { DeployStepId, StepMode, StepOutcome } from "../../jobs/deploy/step-contract.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { labPaths } from "../../lab/index.ts";
import { readEnvFile } from "../../lab/secrets.ts";
import { createLogger } from "../../support/logger.ts";
import { labQuery } from "../support/lab-postgres.ts";
import { labRedisCredentials } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";

const _execFileAsync = promisify(execFile);
const logger = createLogger({ component: "lab-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const NODE01 = "10.77.0.11";
const NODE02 = "10.77.0.12";
const STEP_WAIT_MS = 320_000;

let site: SiteConfig;
let jobs: NodeJobs | undefined;
let pgPassword = "";
/** Step round trips (queue to result), reported at the end: measured, never asserted. */
const timings: string[] = [];

async function step(
  node: string,
  stepId: DeployStepId,
  mode: StepMode,
  primaryNode = "node01",
): Promise<StepOutcome> {
  assert.ok(jobs);
  const started = performance.now();
  const { result, roundTripMs } = await jobs.send(
    node,
    "deploy.step",
    { stepId, mode, primaryNode },
    { waitMs: STEP_WAIT_MS },
  );
  const total = (performance.now() - started) / 1000;
  timings.push(
    `${stepId} ${mode} on ${node}: ${result.status} in ${(roundTripMs / 1000).toFixed(2)} s (send ${total.toFixed(2)} s)`,
  );
  return result;
}

function docker(node: string): Docker {
  return new Docker({ socketPath: paths.node(node).dockerSocket });
}

function dataFolder(node: string): string {
  const config = site.nodes.find((n) => n.name === node);
  assert.ok(config);
  return nodeDataPath(config, site.postgres.dataDir);
}

async function folderEntries(node: string): Promise<string[]> {
  return existsSync(dataFolder(node)) ? readdir(dataFolder(node)) : [];
}

async function containerId(node: string): Promise<string | undefined> {
  return docker(node)
    .getContainer(`pg-${node}`)
    .inspect()
    .then(
      (info) => info.Id,
      () => undefined,
    );
}

const query = <T extends pg.QueryResultRow>(host: string, sql: string, values: unknown[] = []) =>
  labQuery<T>(host, sql, { password: pgPassword, database: "registry", values });

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, host);
  });
}

before(async () => {
  await lab.up();
  site = (await loadSiteConfig(paths.config)).site;
  pgPassword = (await readEnvFile(paths.env))[site.postgres.superuser.passwordEnv] ?? "";
  assert.ok(pgPassword, "the lab's env file holds the superuser's password");
  jobs = new NodeJobs(site, await readSiteKey(site.security.siteKeyFile), await labRedisCredentials(site));
});

after(async () => {
  await jobs?.close();
  if (timings.length > 0) logger.warn({ timings }, "postgres deploy step timings");
  await lab.down();
});

test("on a bare lab, check mode of the primary says what apply would do and changes nothing", async () => {
  const outcome = await step("node01", "postgres.primary", "check");
  assert.equal(outcome.status, "would-change");
  assert.match(
    outcome.detail,
    /^would initdb \/var\/lib\/harbor-ha-lab\/disks\/node01\/postgres \(data checksums/,
  );
  assert.ok(outcome.output?.includes("create container pg-node01"), outcome.detail);
  assert.ok(outcome.output?.includes("create role replicator (LOGIN REPLICATION)"), outcome.detail);
  assert.ok(outcome.output?.includes("create database registry"), outcome.detail);
  assert.deepEqual(await folderEntries("node01"), []);
  assert.equal(await containerId("node01"), undefined);
});

test("apply makes the primary: initdb, its files, the container, the roles and Harbor's database", async () => {
  const outcome = await step("node01", "postgres.primary", "apply");
  assert.equal(
    outcome.status,
    "changed",
    `${outcome.detail} ${outcome.hint ?? ""} ${outcome.outputTail ?? ""}`,
  );
  assert.deepEqual(outcome.output, [
    "initdb /var/lib/harbor-ha-lab/disks/node01/postgres",
    "wrote postgresql.conf, pg_hba.conf",
    "created container pg-node01",
    "set the password of postgres",
    "created role replicator (LOGIN REPLICATION)",
    "created database registry",
  ]);
  const [row] = await query<{ recovery: boolean; checksums: string; wal: string }>(
    NODE01,
    "select pg_is_in_recovery() as recovery, current_setting('data_checksums') as checksums, current_setting('wal_level') as wal",
  );
  assert.deepEqual(row, { recovery: false, checksums: "on", wal: "replica" });
  const info = await docker("node01").getContainer("pg-node01").inspect();
  assert.equal(info.HostConfig.RestartPolicy?.Name, "no");
  assert.equal(info.HostConfig.NetworkMode, "host");
  assert.equal(info.Config.User, "postgres");
  assert.equal((info.Config as { StopSignal?: string }).StopSignal, "SIGINT");
  assert.equal(info.Config.Labels["io.harbor-ha.component"], "postgres");
});

test("a port taken on node02 fails the standby step with a clear hint, and nothing is cloned", async () => {
  // Anything listening on the node's address: here a bare TCP server in node02's namespace.
  const squatter: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      "node02",
      process.execPath,
      "-e",
      `require("net").createServer((s) => s.end()).listen(5432, "${NODE02}")`,
    ],
    { stdio: "ignore" },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (!(await listening(NODE02, 5432)) && Date.now() < deadline) await sleep(50);
    for (const mode of ["check", "apply"] as const) {
      const outcome = await step("node02", "postgres.standby", mode);
      assert.equal(outcome.status, "failed", mode);
      assert.equal(outcome.detail, "port 5432 on node02 (10.77.0.12) is already taken by another process");
      assert.match(outcome.hint ?? "", /stop what listens there .*or change postgres\.port/);
    }
    assert.deepEqual(await folderEntries("node02"), []);
    assert.equal(await containerId("node02"), undefined);
  } finally {
    squatter.kill("SIGKILL");
  }
  const deadline = Date.now() + 10_000;
  while ((await listening(NODE02, 5432)) && Date.now() < deadline) await sleep(50);
});

test("apply makes node02 a standby of node01 with pg_basebackup", async () => {
  const check = await step("node02", "postgres.standby", "check");
  assert.equal(check.status, "would-change");
  assert.match(check.detail, /would clone node01 \(10\.77\.0\.11:5432\) with pg_basebackup/);
  const outcome = await step("node02", "postgres.standby", "apply");
  assert.equal(
    outcome.status,
    "changed",
    `${outcome.detail} ${outcome.hint ?? ""} ${outcome.outputTail ?? ""}`,
  );
  assert.deepEqual(outcome.output, [
    "cloned node01 with pg_basebackup",
    "wrote postgresql.conf, pg_hba.conf, standby.signal",
    "created container pg-node02",
  ]);
});

test("the four replication checks hold on both nodes and show in the step's output", async () => {
  const primary = await step("node01", "postgres.replication", "apply");
  assert.equal(primary.status, "unchanged", `${primary.detail} ${primary.hint ?? ""}`);
  assert.deepEqual(primary.output, [
    "pg_stat_replication: node02 streaming (sync_state quorum)",
    "pg_controldata: in production",
    "pg_is_in_recovery: f",
  ]);
  const standby = await step("node02", "postgres.replication", "apply");
  assert.equal(standby.status, "unchanged", `${standby.detail} ${standby.hint ?? ""}`);
  assert.deepEqual(standby.output, [
    `pg_stat_wal_receiver: streaming from ${NODE01}`,
    "pg_controldata: in archive recovery",
    "pg_is_in_recovery: t",
  ]);
});

test("a write on node01 is readable on node02, a read-only hot standby", async () => {
  const token = `written-${Date.now()}`;
  await query(NODE01, "create table if not exists deploy_check (token text primary key)");
  await query(NODE01, "insert into deploy_check values ($1)", [token]);
  let seen = false;
  const deadline = Date.now() + 15_000;
  while (!seen && Date.now() < deadline) {
    // Until the standby has replayed the CREATE TABLE, the table is missing there (42P01).
    const rows = await query(NODE02, "select 1 from deploy_check where token = $1", [token]).catch(
      (error: { code?: string }) => {
        if (error.code === "42P01") return [];
        throw error;
      },
    );
    seen = rows.length === 1;
    if (!seen) await sleep(100);
  }
  assert.ok(seen, "node02 replays node01's write");
  const [row] = await query<{ recovery: boolean }>(NODE02, "select pg_is_in_recovery() as recovery");
  assert.equal(row?.recovery, true);
  await assert.rejects(query(NODE02, "insert into deploy_check values ('no')"), /read-only transaction/);
});

test("a second apply of the three steps changes nothing, and check mode agrees", async () => {
  const sequence: [string, DeployStepId][] = [
    ["node01", "postgres.primary"],
    ["node02", "postgres.standby"],
    ["node01", "postgres.replication"],
    ["node02", "postgres.replication"],
  ];
  for (const mode of ["apply", "check"] as const) {
    for (const [node, stepId] of sequence) {
      const outcome = await step(node, stepId, mode);
      assert.equal(outcome.status, "unchanged", `${mode} ${stepId} on ${node}: ${outcome.detail}`);
    }
  }
});

test("postgres.primary sent to node02, now a standby, fails with a hint and changes nothing", async () => {
  const before = await containerId("node02");
  const filesBefore = await folderEntries("node02");
  for (const mode of ["check", "apply"] as const) {
    const outcome = await step("node02", "postgres.primary", mode, "node02");
    assert.equal(outcome.status, "failed");
    assert.equal(outcome.detail, "node02's PostgreSQL runs as a standby (in recovery)");
    assert.match(outcome.hint ?? "", /never promotes a standby/);
  }
  assert.equal(await containerId("node02"), before, "the container was not re-created");
  assert.deepEqual(await folderEntries("node02"), filesBefore);
  assert.ok(filesBefore.includes("standby.signal"));
  const [row] = await query<{ recovery: boolean }>(NODE02, "select pg_is_in_recovery() as recovery");
  assert.equal(row?.recovery, true);
});

test("postgres.standby sent to node01, the running primary, refuses to wipe it", async () => {
  const outcome = await step("node01", "postgres.standby", "apply", "node02");
  assert.equal(outcome.status, "failed");
  assert.match(outcome.detail, /node01's PostgreSQL runs as a primary .* never wiped/);
  assert.match(outcome.hint ?? "", /discard its writes/);
  const [row] = await query<{ n: string }>(NODE01, "select count(*) as n from deploy_check");
  assert.equal(row?.n, "1", "node01 keeps its data");
});

test("a stopped standby is started again by its step and streams", async () => {
  await docker("node02").getContainer("pg-node02").stop();
  const check = await step("node02", "postgres.standby", "check");
  assert.equal(check.detail, "would start stopped container pg-node02");
  const outcome = await step("node02", "postgres.standby", "apply");
  assert.equal(outcome.status, "changed");
  assert.deepEqual(outcome.output, ["started stopped container pg-node02"]);
  const replication = await step("node02", "postgres.replication", "apply");
  assert.equal(replication.status, "unchanged", `${replication.detail} ${replication.hint ?? ""}`);
});
