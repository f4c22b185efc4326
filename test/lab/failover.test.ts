/**
 * The runbook's scenarios on the real lab, with the real controller (inside `harbor-ha bot`)
 * and faults injected from outside the product: `docker kill` of the primary's PostgreSQL
 * (S1/S3, then S2 as the old primary's node is still there), a keepalived crash on the VIP
 * holder (S4), and the standby's container dying. After each: exactly one VIP holder, it is the
 * primary, a write through 10.77.0.100:5432 succeeds, the old primary streams as a standby, and
 * the alert thread in the emulator has the timeline. Root needed; the lab always comes down.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import Docker from "dockerode";
import pg from "pg";
import { parseDocument } from "yaml";
import { loadSiteConfig } from "../../config/load.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { postgresContainerName } from "../../jobs/deploy/postgres-config.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { readState } from "../../lab/state.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { createLogger } from "../../support/logger.ts";
import { waitForHttp } from "../support/chat-stack.ts";
import { ownLab } from "../support/own-lab.ts";
import { type Background, runCli, startCli } from "../support/processes.ts";
import { freePort } from "../support/redis-server.ts";
import { vipHolders } from "../support/vip.ts";

const execFileAsync = promisify(execFile);
const logger = createLogger({ component: "failover-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const VIP = "10.77.0.100";
const NODES = ["node01", "node02"] as const;
type NodeName = (typeof NODES)[number];
const ADDRESS: Record<NodeName, string> = { node01: "10.77.0.11", node02: "10.77.0.12" };
let env: Record<string, string> = {};
let site: SiteConfig;
let emulator: RunningEmulator;
let bot: Background | undefined;
let botConfig: string | undefined;

const docker = (node: NodeName) => new Docker({ socketPath: labPaths().node(node).dockerSocket });

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
  const deployed = await runCli(["--config", paths.config, "deploy"], env, 600_000);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
  site = (await loadSiteConfig(paths.config)).site;
  const botPort = await freePort();
  emulator = await startEmulator({
    port: 0,
    botUrl: `http://127.0.0.1:${botPort}/slack/events`,
    signingSecret: "s",
    botToken: "xoxb-t",
  });
  // The lab's site, but flap damping loose enough for this file's dozen failovers in a few
  // minutes (damping itself is unit-tested in test/unit/decide.test.ts).
  const document = parseDocument(readFileSync(paths.config, "utf8"));
  document.setIn(["policy", "flapDamping", "maxAutoFailovers"], 100);
  botConfig = join(mkdtempSync(join(tmpdir(), "harbor-ha-failover-")), "site.yaml");
  writeFileSync(botConfig, document.toString());
  bot = startCli(["bot", "--port", String(botPort), "--host", "127.0.0.1", "--config", botConfig], {
    ...env,
    SLACK_BOT_TOKEN: "xoxb-t",
    SLACK_SIGNING_SECRET: "s",
    SLACK_API_URL: emulator.apiUrl,
    // Debug: the controller's findings as they change, for the failure message.
    HARBOR_HA_LOG_LEVEL: "debug",
  });
  await waitForHttp(`http://127.0.0.1:${botPort}/metrics`, bot.output);
  await bot.waitFor(/"event":"controller.lease.acquired"/, 30_000);
  // Faults begin once the bot's snapshot has seen the healthy site (its metrics say so).
  await until("the bot sees node01 as the primary", async () => {
    const text = await (await fetch(`http://127.0.0.1:${botPort}/metrics`)).text();
    return /harbor_ha_postgres_role\{node="node01",role="primary"\} 1/.test(text) ? true : undefined;
  });
});

after(async () => {
  await bot?.stop("SIGTERM");
  await emulator?.close();
  if (botConfig) rmSync(dirname(botConfig), { recursive: true, force: true });
  await lab.down();
});

/** Runs the statements in order on one connection; the last one's rows. */
async function query<T extends pg.QueryResultRow>(
  host: string,
  sql: string | string[],
  timeoutMs = 1_000,
): Promise<T[]> {
  const client = new pg.Client({
    host,
    port: 5432,
    user: "postgres",
    password: env.HARBOR_HA_PG_PASSWORD,
    database: "postgres",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    let rows: T[] = [];
    for (const statement of Array.isArray(sql) ? sql : [sql]) rows = (await client.query<T>(statement)).rows;
    return rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Polls until a write through the VIP succeeds; resolves with the server that took it. */
async function writableThroughVip(limitMs: number): Promise<{ server: string; afterMs: number }> {
  const started = performance.now();
  let last = "";
  while (performance.now() - started < limitMs) {
    try {
      const rows = await query<{ server: string }>(
        VIP,
        [
          "create table if not exists failover_probe (at timestamptz)",
          "insert into failover_probe values (now())",
          "select current_setting('cluster_name') as server",
        ],
        500,
      );
      return { server: rows.at(-1)?.server ?? "?", afterMs: performance.now() - started };
    } catch (error) {
      last = (error as Error).message;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  assert.fail(`no write through the VIP within ${limitMs} ms: ${last}\n${controllerLog()}`);
}

/** The bot's controller lines, for a failure message. */
function controllerLog(): string {
  return (
    bot
      ?.output()
      .split("\n")
      .filter((line) => /controller|error|warn/.test(line))
      .slice(-40)
      .join("\n") ?? ""
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 90_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`${what} did not happen within ${limitMs} ms ${lastError}\n${controllerLog()}`);
}

/** The site is whole again: one VIP holder, it runs the primary, the other node streams from it. */
async function settled(primary: NodeName): Promise<void> {
  const standby = primary === "node01" ? "node02" : "node01";
  await until(`${standby} streaming from ${primary} with keepalived back`, async () => {
    const rows = await query<{ client_addr: string; state: string }>(
      ADDRESS[primary],
      "select host(client_addr) as client_addr, state from pg_stat_replication",
    );
    const streaming = rows.some((row) => row.client_addr === ADDRESS[standby] && row.state === "streaming");
    const keepalived = await docker(standby).getContainer(keepalivedContainerName(standby)).inspect();
    return streaming && keepalived.State.Running ? true : undefined;
  });
  assert.deepEqual(await vipHolders(NODES, VIP), [primary], "exactly one VIP holder, the primary");
  const [recovery] = await query<{ standby: boolean }>(
    ADDRESS[primary],
    "select pg_is_in_recovery() as standby",
  );
  assert.equal(recovery?.standby, false);
  const [standbyRecovery] = await query<{ standby: boolean }>(
    ADDRESS[standby],
    "select pg_is_in_recovery() as standby",
  );
  assert.equal(standbyRecovery?.standby, true);
  // The controller has closed its incident too: the next fault opens a thread of its own.
  await until("no incident open in the alert channel", async () => {
    const open = emulator
      .messages(site.slack.alertChannel)
      .filter((m) => m.thread_ts === undefined && /^:(rotating_light|gear|raised_hand):/.test(m.text));
    return open.length === 0 ? true : undefined;
  });
}

/** The incident thread in the alert channel ends resolved, with the timeline's milestones. */
async function resolvedThread(scenario: RegExp, milestones: RegExp[]): Promise<string> {
  const channel = site.slack.alertChannel;
  const top = await emulator.waitForMessage(
    channel,
    (m) => scenario.test(JSON.stringify(m.blocks)) && /Resolved/.test(m.text),
    120_000,
  );
  await emulator.waitForMessage(channel, (m) => m.thread_ts === top.ts && /Timeline/.test(m.text), 30_000);
  const thread = emulator
    .messages(channel)
    .filter((m) => m.thread_ts === top.ts)
    .map((m) => m.text)
    .join("\n");
  for (const milestone of milestones) assert.match(thread, milestone);
  return thread;
}

test("S1/S3 then S2: the primary's container killed on the VIP node; node02 takes over, node01 rejoins", async (t) => {
  await settled("node01");
  await docker("node01").getContainer(postgresContainerName("node01")).kill();
  const killedAt = performance.now();
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `primary killed -> writable through the VIP in ${(performance.now() - killedAt).toFixed(0)} ms (server ${write.server})`,
  );
  assert.equal(write.server, "node02");
  await settled("node02");
  const thread = await resolvedThread(/S1\/S3/, [
    /fence node01/,
    /promote node02/,
    /Timeline/,
    /promoted node02/,
    /writable through the VIP/,
  ]);
  t.diagnostic(
    thread
      .split("\n")
      .filter((line) => /^\+/.test(line))
      .join(" | "),
  );
});

test("S4: keepalived crashes on the VIP holder; the peer is promoted, the old node comes back as BACKUP and standby", async (t) => {
  await settled("node02");
  await docker("node02").getContainer(keepalivedContainerName("node02")).kill();
  const killedAt = performance.now();
  await until("the primary moved to node01", async () => {
    const [row] = await query<{ standby: boolean }>(
      ADDRESS.node01,
      "select pg_is_in_recovery() as standby",
      500,
    );
    return row?.standby === false ? true : undefined;
  });
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `keepalived killed -> writable through the VIP on node01 in ${(performance.now() - killedAt).toFixed(0)} ms`,
  );
  assert.equal(write.server, "node01");
  await settled("node01");
  await resolvedThread(/S4/, [/fence node02/, /promote node01/]);
});

test("the standby's container dies: it is started again and streams", async () => {
  await settled("node01");
  await docker("node02").getContainer(postgresContainerName("node02")).kill();
  await until("node02's PostgreSQL restarted", async () => {
    const container = await docker("node02").getContainer(postgresContainerName("node02")).inspect();
    return container.State.Running ? true : undefined;
  });
  await settled("node01");
  await resolvedThread(/standby PostgreSQL down/, [/restart PostgreSQL on node02/]);
});

test("a switchover asked from a terminal: the controller runs it, node02 becomes the primary, no acknowledged write is lost", async (t) => {
  await settled("node01");
  await query(VIP, ["create table if not exists switch_probe (id int)", "truncate switch_probe"]);
  for (let id = 1; id <= 50; id++) await query(VIP, `insert into switch_probe values (${id})`);
  const dry = await runCli(["--config", paths.config, "switchover", "--dry-run"], env, 120_000);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /dry run, nothing done: switchover from node01 to node02/);
  const started = performance.now();
  const done = await runCli(["--config", paths.config, "switchover"], env, 300_000);
  t.diagnostic(
    `switchover took ${((performance.now() - started) / 1000).toFixed(1)} s: ${done.stdout.split("\n")[0]}`,
  );
  assert.equal(done.code, 0, done.stdout + done.stderr);
  await settled("node02");
  const [count] = await query<{ n: string }>(ADDRESS.node02, "select count(*) as n from switch_probe");
  assert.equal(Number(count?.n), 50, "every acknowledged write is on the new primary");
});

test("the VIP on two nodes: keepalived restarts on the node without the primary and the stray VIP is gone", async () => {
  await settled("node02");
  await execFileAsync("ip", ["netns", "exec", "node01", "ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
  await until("the VIP only on node02", async () => {
    const holders = await vipHolders(NODES, VIP);
    return holders.length === 1 && holders[0] === "node02" ? true : undefined;
  });
  await resolvedThread(/VIP on two nodes/, [/restart keepalived on node01/]);
  await settled("node02");
});

test("two writable primaries: the one without the VIP is fenced; rejoining it waits for an approver", async () => {
  await settled("node02");
  await query(ADDRESS.node01, "select pg_promote(true)");
  const channel = site.slack.alertChannel;
  const approval = await emulator.waitForMessage(
    channel,
    (m) =>
      m.thread_ts !== undefined &&
      /approval\.approve/.test(JSON.stringify(m.blocks)) &&
      /node01/.test(JSON.stringify(m.blocks)),
    120_000,
  );
  // node01 is fenced while the question waits: one primary, node02, holding the VIP.
  assert.deepEqual(await vipHolders(NODES, VIP), ["node02"]);
  const id = /"value":"([^"]+)"/.exec(JSON.stringify(approval.blocks))?.[1] ?? "";
  const clicked = await emulator.action({
    channel,
    user: site.slack.approvers[0] ?? "",
    messageTs: approval.ts,
    actionId: "approval.approve",
    blockId: `approval:${id}`,
    value: id,
  });
  assert.equal(clicked.acked, true);
  await settled("node02");
});

test("the agent killed on the primary's node: writes still reach it through the VIP, so nothing fails over", async () => {
  await settled("node02");
  const state = await readState(paths.stateFile);
  const agent = state?.processes["agent:node02"];
  assert.ok(agent, "the lab recorded node02's agent");
  process.kill(agent.pid, "SIGKILL");
  // Long enough for node02 to be silent (3 s) and the finding to be confirmed several times over.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const [row] = await query<{ standby: boolean }>(ADDRESS.node02, "select pg_is_in_recovery() as standby");
  assert.equal(row?.standby, false, "node02 is still the primary");
  assert.deepEqual(await vipHolders(NODES, VIP), ["node02"]);
  // The lab starts a dead agent again; the site is whole.
  const up = await runCli(["lab", "up"], env, 120_000);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  await settled("node02");
});
