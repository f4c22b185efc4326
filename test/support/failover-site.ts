/**
 * The deployed two-node lab with the real controller running inside `harbor-ha bot` against the
 * Slack emulator: what the failover and fault lab tests share. A test file makes one with
 * `failoverSite()`, calls `start()` in `before` and `stop()` in `after`, injects faults from
 * outside the product and checks the outcome with the helpers here (who is primary, who holds
 * the VIP, can a client write through it, what the alert thread says).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Docker from "dockerode";
import type pg from "pg";
import { parseDocument } from "yaml";
import { ADDRESS, NODES, type NodeName, peerOf as other, VIP } from "../../bench/lab-facts.ts";
import { loadSiteConfig } from "../../config/load.ts";
import type { Durability, SiteConfig } from "../../config/schema.ts";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { createLogger } from "../../support/logger.ts";
import { waitForHttp } from "./chat-stack.ts";
import { labQuery } from "./lab-postgres.ts";
import { ownLab } from "./own-lab.ts";
import { type Background, botArgs, runCli, startCli } from "./processes.ts";
import { freePort } from "./redis-server.ts";
import { vipHolders } from "./vip.ts";

export { ADDRESS, NODES, type NodeName, other, VIP };

export interface Bot {
  readonly process: Background;
  readonly port: number;
  /** Its GET /metrics (a listener of its own, never Slack's). */
  readonly metricsUrl: string;
}

export interface FailoverSiteOptions {
  /** postgres.durability to deploy with; the lab site's own (synchronous) when not given. */
  readonly durability?: Durability;
}

export function failoverSite(name: string, options: FailoverSiteOptions = {}) {
  const logger = createLogger({ component: name, level: "warn", destination: process.stderr });
  const lab = ownLab(logger);
  const paths = labPaths();
  let env: Record<string, string> = {};
  let site: SiteConfig | undefined;
  let emulator: RunningEmulator | undefined;
  let botConfig: string | undefined;
  const bots: Bot[] = [];

  const requireSite = (): SiteConfig => site ?? assert.fail("start() has not run");
  const requireEmulator = (): RunningEmulator => emulator ?? assert.fail("start() has not run");

  /** Every bot's controller lines, for a failure message. */
  function controllerLog(): string {
    return bots
      .flatMap((bot) =>
        bot.process
          .output()
          .split("\n")
          .filter((line) => /controller|error|warn/.test(line))
          .slice(-30),
      )
      .join("\n");
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

  /** Runs the statements in order on one connection; the last one's rows. */
  const query = <T extends pg.QueryResultRow>(host: string, sql: string | string[], timeoutMs = 1_000) =>
    labQuery<T>(host, sql, { password: env.HARBOR_HA_PG_PASSWORD, timeoutMs });

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

  const docker = (node: NodeName) => new Docker({ socketPath: paths.node(node).dockerSocket });

  /** Starts `harbor-ha bot` against the emulator; resolves once its controller runs (or stands by). */
  async function startBot(
    waitFor = /"event":"controller.lease.acquired"/,
    chosenPort?: number,
  ): Promise<Bot> {
    const config = botConfig ?? assert.fail("start() has not run");
    const port = chosenPort ?? (await freePort());
    const metricsPort = await freePort();
    const bot = startCli(botArgs(config, port, metricsPort), {
      ...env,
      SLACK_BOT_TOKEN: "xoxb-t",
      SLACK_SIGNING_SECRET: "s",
      SLACK_API_URL: requireEmulator().apiUrl,
      // Debug: the controller's findings as they change, for the failure message.
      HARBOR_HA_LOG_LEVEL: "debug",
    });
    const started = { process: bot, port, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    bots.push(started);
    await waitForHttp(started.metricsUrl, bot.output);
    await bot.waitFor(waitFor, 30_000);
    return started;
  }

  /**
   * Why the site is not whole now, or undefined when it is: the standby streams from the primary,
   * keepalived runs on both, exactly one VIP holder and it is the primary, the roles answer as
   * expected, and no incident is open in the alert channel (the next fault opens a thread of its own).
   */
  async function whyUnsettled(primary: NodeName): Promise<string | undefined> {
    const standby = other(primary);
    const rows = await query<{ client_addr: string; state: string }>(
      ADDRESS[primary],
      "select host(client_addr) as client_addr, state from pg_stat_replication",
    );
    if (!rows.some((row) => row.client_addr === ADDRESS[standby] && row.state === "streaming"))
      return `${standby} does not stream from ${primary}`;
    for (const node of NODES) {
      const keepalived = await docker(node).getContainer(keepalivedContainerName(node)).inspect();
      if (!keepalived.State.Running) return `keepalived is not running on ${node}`;
    }
    const holders = await vipHolders(NODES, VIP);
    if (holders.length !== 1 || holders[0] !== primary)
      return `the VIP is on [${holders.join(", ")}], not on ${primary} alone`;
    const [recovery] = await query<{ standby: boolean }>(
      ADDRESS[primary],
      "select pg_is_in_recovery() as standby",
    );
    if (recovery?.standby !== false) return `${primary} is not a writable primary`;
    const [standbyRecovery] = await query<{ standby: boolean }>(
      ADDRESS[standby],
      "select pg_is_in_recovery() as standby",
    );
    if (standbyRecovery?.standby !== true) return `${standby} is not in recovery`;
    const open = requireEmulator()
      .messages(requireSite().slack.alertChannel)
      .filter((m) => m.thread_ts === undefined && /^:(rotating_light|gear|raised_hand):/.test(m.text));
    if (open.length > 0) return `an incident is open: ${open[0]?.text.slice(0, 80)}`;
    return undefined;
  }

  return {
    paths,
    docker,
    until,
    query,
    writableThroughVip,
    controllerLog,
    startBot,
    /** Every bot started so far, the first one first. */
    get bots(): readonly Bot[] {
      return bots;
    },
    get env() {
      return env;
    },
    get site() {
      return requireSite();
    },
    get emulator() {
      return requireEmulator();
    },

    /** Lab up, deploy, emulator, one bot whose snapshot has seen node01 as the primary. */
    async start(): Promise<void> {
      await lab.up();
      env = await readEnvFile(paths.env);
      // The lab's site, but flap damping loose enough for a file's many failovers in a few
      // minutes (damping itself is unit-tested in test/unit/decide.test.ts).
      const document = parseDocument(readFileSync(paths.config, "utf8"));
      document.setIn(["policy", "flapDamping", "maxAutoFailovers"], 10_000);
      if (options.durability) document.setIn(["postgres", "durability"], options.durability);
      botConfig = join(mkdtempSync(join(tmpdir(), `harbor-ha-${name}-`)), "site.yaml");
      writeFileSync(botConfig, document.toString());
      const deployed = await runCli(["--config", botConfig, "deploy"], env, 600_000);
      assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
      site = (await loadSiteConfig(botConfig)).site;
      const firstBotPort = await freePort();
      emulator = await startEmulator({
        port: 0,
        // Approval clicks go to the first bot (a second one only stands by).
        botUrl: `http://127.0.0.1:${firstBotPort}/slack/events`,
        signingSecret: "s",
        botToken: "xoxb-t",
      });
      const bot = await startBot(undefined, firstBotPort);
      // Faults begin once the bot's snapshot has seen the healthy site (its metrics say so).
      await until("the bot sees node01 as the primary", async () => {
        const text = await (await fetch(bot.metricsUrl)).text();
        return /harbor_ha_postgres_role\{node="node01",role="primary"\} 1/.test(text) ? true : undefined;
      });
    },

    async stop(): Promise<void> {
      for (const bot of bots) await bot.process.stop("SIGTERM");
      await emulator?.close();
      if (botConfig) rmSync(dirname(botConfig), { recursive: true, force: true });
      await lab.down();
    },

    /** The site is whole again: one VIP holder, it runs the primary, the other node streams from it. */
    async settled(primary: NodeName): Promise<void> {
      await until(`the site settled with ${primary} the primary`, async () => {
        const unsettled = await whyUnsettled(primary);
        if (unsettled) throw new Error(unsettled);
        return true;
      });
    },

    whyUnsettled,

    /** The newest message's time in the alert channel: threads opened after it are the next fault's. */
    alertMark(): number {
      return Math.max(
        0,
        ...requireEmulator()
          .messages(requireSite().slack.alertChannel)
          .map((m) => Number(m.ts)),
      );
    },

    /** The incident thread opened after `mark` ends resolved, with the timeline's milestones. */
    async resolvedThread(scenario: RegExp, milestones: RegExp[], mark: number): Promise<string> {
      const channel = requireSite().slack.alertChannel;
      const slack = requireEmulator();
      const top = await slack.waitForMessage(
        channel,
        (m) => Number(m.ts) > mark && scenario.test(JSON.stringify(m.blocks)) && /Resolved/.test(m.text),
        120_000,
      );
      await slack.waitForMessage(channel, (m) => m.thread_ts === top.ts && /Timeline/.test(m.text), 30_000);
      const thread = slack
        .messages(channel)
        .filter((m) => m.thread_ts === top.ts)
        .map((m) => m.text)
        .join("\n");
      for (const milestone of milestones) assert.match(thread, milestone);
      return thread;
    },

    /** The node whose PostgreSQL takes writes now, if one answers. */
    async currentPrimary(): Promise<NodeName | undefined> {
      for (const node of NODES) {
        const [row] = await query<{ standby: boolean }>(
          ADDRESS[node],
          "select pg_is_in_recovery() as standby",
          500,
        ).catch(() => []);
        if (row?.standby === false) return node;
      }
      return undefined;
    },

    /** Until the named node is the only primary, answering without recovery. */
    async primaryIs(node: NodeName): Promise<void> {
      await until(`the primary moved to ${node}`, async () => {
        const [row] = await query<{ standby: boolean }>(
          ADDRESS[node],
          "select pg_is_in_recovery() as standby",
          500,
        );
        return row?.standby === false ? true : undefined;
      });
    },
  };
}

export type FailoverSite = ReturnType<typeof failoverSite>;
