import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type NodeObservation, observationChannel, observationKey } from "../../probes/observation.ts";
import type { EmulatorOptions } from "../../slack-emulator/options.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { healthyObservation } from "./observation-fixtures.ts";
import { type Background, botArgs, startCli } from "./processes.ts";
import { freePort, startTestRedis, type TestRedis } from "./redis-server.ts";
import { loopbackSiteYaml, writeTestSiteKey } from "./site-fixtures.ts";

/**
 * The chat side of the product without the lab: a real Redis in which the stack plays the agents
 * (node01 primary holding the VIP, node02 standby, published every 500 ms as agents do), the
 * Slack emulator, and the real bot (`harbor-ha bot`, a separate process) between them.
 * Every address is loopback. stop() removes all of it, whatever state it is in.
 */
export interface ChatStack {
  readonly site: string;
  readonly redis: TestRedis;
  readonly emulator: RunningEmulator;
  readonly bot: Background;
  readonly botPort: number;
  /** http://127.0.0.1:PORT/slack/events */
  readonly botUrl: string;
  /** The bot's GET /metrics, on a listener of its own. */
  readonly metricsUrl: string;
  readonly config: string;
  /** The site key the bot reads (mode 600): chains the audit log the test reads back. */
  readonly siteKeyFile: string;
  readonly signingSecret: string;
  /** The environment the bot was started with (tokens, secrets), to start another like it. */
  botEnv(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export interface ChatStackOptions {
  readonly site: string;
  readonly emulator?: EmulatorOptions;
  /** Log level of the bot: "info" lets tests wait for its events. */
  readonly botLogLevel?: string;
  /** Changes to the loopback site (path, value), such as who may do what in Slack. */
  readonly siteChanges?: Array<[path: Array<string | number>, value: unknown]>;
}

export async function startChatStack(options: ChatStackOptions): Promise<ChatStack> {
  const { site } = options;
  const signingSecret = "test-signing-secret";
  const botToken = "xoxb-test-bot-token";
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const redis = await startTestRedis();
    cleanups.push(() => redis.stop());
    const publisher = new Redis(redis.url);
    // A test may stop Redis for a while (an outage): the agents' stand-in just misses rounds.
    publisher.on("error", () => {});
    cleanups.push(() => publisher.disconnect());
    cleanups.push(await playHealthyAgents(publisher, site));

    const botPort = await freePort();
    const botUrl = `http://127.0.0.1:${botPort}/slack/events`;
    const emulator = await startEmulator({ port: 0, botUrl, signingSecret, botToken, ...options.emulator });
    cleanups.push(() => emulator.close());
    const dir = mkdtempSync(join(tmpdir(), "harbor-ha-chat-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "site.yaml");
    const siteKeyFile = writeTestSiteKey(dir);
    writeFileSync(
      config,
      loopbackSiteYaml(site, redis.url, [
        [["security", "siteKeyFile"], siteKeyFile],
        ...(options.siteChanges ?? []),
      ]),
    );
    const botEnv = (extra: Record<string, string> = {}) => ({
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: emulator.apiUrl,
      HARBOR_HA_PG_PASSWORD: "pg-secret",
      HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
      HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
      HARBOR_HA_LOG_LEVEL: options.botLogLevel ?? "info",
      ...extra,
    });
    const metricsPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const bot = startCli(botArgs(config, botPort, metricsPort), botEnv());
    cleanups.push(async () => {
      await bot.stop("SIGTERM");
    });
    await waitForHttp(metricsUrl, bot.output);
    return {
      site,
      redis,
      emulator,
      bot,
      botPort,
      botUrl,
      metricsUrl,
      config,
      siteKeyFile,
      signingSecret,
      botEnv,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Publishes node01 (primary, VIP) and node02 (standby) as their agents would, now and every
 * 500 ms, until the returned function is called.
 */
export async function playHealthyAgents(publisher: Redis, site: string): Promise<() => void> {
  const publish = async () => {
    for (const [node, primary] of [
      ["node01", true],
      ["node02", false],
    ] as const) {
      const observation: NodeObservation = {
        ...healthyObservation(node, { primary }),
        site,
        observedAt: Date.now(),
      };
      const text = JSON.stringify(observation);
      await publisher.set(observationKey(site, node), text, "PX", 10_000);
      await publisher.publish(observationChannel(site), text);
    }
  };
  await publish();
  const publishing = setInterval(() => void publish().catch(() => {}), 500);
  return () => clearInterval(publishing);
}

/** Resolves when the URL answers 200 (a process is up), or fails with the process's output. */
export async function waitForHttp(url: string, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${output()}`);
}
