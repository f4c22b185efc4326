// `npm run bench:chat`: how fast the bot acks slash commands and answers `/harbor status`, side by
// side with a baseline measured in the same run: a bare Bolt app on the same machine that acks
// `/harbor` at once and posts a fixed message (what any Hubot-style bot costs at least).
// Uses the lab when it is up (real agents, real checks through the VIP); otherwise a private
// Redis on loopback with observations published by the bench, as agents would.
// Bounded: 500 acks and 40 status answers per target, every wait with a timeout; loopback only.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import bolt from "@slack/bolt";
import { Redis } from "ioredis";
import { loadSiteConfig } from "../../config/load.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { readState } from "../../lab/state.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { playHealthyAgents, waitForHttp } from "../support/chat-stack.ts";
import { botArgs, startCli } from "../support/processes.ts";
import { freePort, startTestRedis, type TestRedis } from "../support/redis-server.ts";
import { loopbackSiteYaml, writeTestSiteKey } from "../support/site-fixtures.ts";
import { ms, ratio, type Summary, summarize } from "./stats.ts";

export const ACKS = 500;
export const STATUS_ANSWERS = 40;
const WARMUP = 20;
const signingSecret = "bench-signing-secret";
const botToken = "xoxb-bench";

export interface Target {
  readonly name: string;
  readonly emulator: RunningEmulator;
  /** The text that starts the message the target posts for `/harbor status`. */
  readonly cardPrefix: string;
}

export async function measureAcks(target: Target): Promise<Summary> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ACKS; i++) {
    const result = await target.emulator.command({
      channel: `C0ACK${i}`,
      user: "U0ALICE",
      text: "/harbor status",
    });
    if (result.status !== 200) throw new Error(`${target.name}: command ${i} got HTTP ${result.status}`);
    if (i >= WARMUP) samples.push(result.latencyMs);
  }
  return summarize(samples);
}

export async function measureStatus(target: Target): Promise<Summary> {
  const samples: number[] = [];
  for (let i = 0; i < STATUS_ANSWERS; i++) {
    const channel = `C0STATUS${i}`;
    const started = performance.now();
    await target.emulator.command({ channel, user: "U0BOB", text: "/harbor status" });
    await target.emulator.waitForMessage(
      channel,
      (message) => message.text.startsWith(target.cardPrefix),
      10_000,
    );
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}

/** The baseline: Bolt with nothing of ours, acking and posting a fixed line. */
async function startBaseline(port: number, apiUrl: string) {
  const app = new bolt.App({
    token: botToken,
    signingSecret,
    clientOptions: { slackApiUrl: apiUrl },
    logLevel: bolt.LogLevel.ERROR,
  });
  app.command("/harbor", async ({ ack, command, client }) => {
    await ack();
    await client.chat.postMessage({ channel: command.channel_id, text: "baseline: status" });
  });
  await app.start({ port, host: "127.0.0.1" });
  return app;
}

function rssMb(pid: number | undefined): string {
  if (!pid) return "?";
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return `${(kb / 1024).toFixed(0)} MB`;
  } catch {
    return "?";
  }
}

async function main() {
  const paths = labPaths();
  const useLab = existsSync(paths.stateFile) && existsSync(paths.config);
  let redis: TestRedis | undefined;
  let publisher: Redis | undefined;
  let stopAgents: (() => void) | undefined;
  const dir = mkdtempSync(join(tmpdir(), "harbor-ha-bench-"));
  let config = paths.config;
  let env: Record<string, string> = {};
  let site = "lab";
  if (useLab) {
    env = await readEnvFile(paths.env);
    site = (await loadSiteConfig(config)).site.site;
  } else {
    redis = await startTestRedis();
    site = "benchsite";
    config = join(dir, "site.yaml");
    writeFileSync(
      config,
      loopbackSiteYaml(site, redis.url, [[["security", "siteKeyFile"], writeTestSiteKey(dir)]]),
    );
    env = {
      HARBOR_HA_PG_PASSWORD: "x",
      HARBOR_HA_REPLICATION_PASSWORD: "x",
      HARBOR_HA_HARBOR_ADMIN_PASSWORD: "x",
    };
    publisher = new Redis(redis.url);
    stopAgents = await playHealthyAgents(publisher, site);
  }
  console.log(
    `bench:chat: ${useLab ? "the lab (real agents and checks through the VIP)" : "loopback (no lab up: observations published by the bench, nothing at the VIP)"}`,
  );

  const botPort = await freePort();
  const baselinePort = await freePort();
  const ours = await startEmulator({
    botUrl: `http://127.0.0.1:${botPort}/slack/events`,
    signingSecret,
    botToken,
    rateLimit: false,
  });
  const theirs = await startEmulator({
    botUrl: `http://127.0.0.1:${baselinePort}/slack/events`,
    signingSecret,
    botToken,
    rateLimit: false,
  });
  const metricsPort = await freePort();
  const bot = startCli(botArgs(config, botPort, metricsPort), {
    ...env,
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: ours.apiUrl,
    HARBOR_HA_LOG_LEVEL: "warn",
  });
  const baseline = await startBaseline(baselinePort, theirs.apiUrl);
  try {
    await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`, bot.output);
    const targets = {
      ours: { name: "harbor-ha bot", emulator: ours, cardPrefix: `${site}:` },
      baseline: { name: "bare Bolt", emulator: theirs, cardPrefix: "baseline:" },
    };
    const acks = { ours: await measureAcks(targets.ours), baseline: await measureAcks(targets.baseline) };
    const status = {
      ours: await measureStatus(targets.ours),
      baseline: await measureStatus(targets.baseline),
    };
    console.log(`\nack latency over ${ACKS} slash commands (/harbor status, as Slack sees it):`);
    console.log(
      `  harbor-ha bot  p50 ${ms(acks.ours.p50)}  p99 ${ms(acks.ours.p99)}  max ${ms(acks.ours.max)}   (target p99 < 100 ms)`,
    );
    console.log(
      `  bare Bolt      p50 ${ms(acks.baseline.p50)}  p99 ${ms(acks.baseline.p99)}  max ${ms(acks.baseline.max)}`,
    );
    console.log(
      `  ratio          p50 ${ratio(acks.ours.p50, acks.baseline.p50)}  p99 ${ratio(acks.ours.p99, acks.baseline.p99)}`,
    );
    console.log(
      `\n/harbor status end to end over ${STATUS_ANSWERS} commands (command sent -> card in the channel):`,
    );
    console.log(
      `  harbor-ha bot  p50 ${ms(status.ours.p50)}  p95 ${ms(status.ours.p95)}  max ${ms(status.ours.max)}   (target p95 < 1500 ms)`,
    );
    console.log(
      `  bare Bolt      p50 ${ms(status.baseline.p50)}  p95 ${ms(status.baseline.p95)}  (a fixed line, no snapshot)`,
    );
    console.log(`  ratio          p95 ${ratio(status.ours.p95, status.baseline.p95)}`);
    const memory = [`bot ${rssMb(bot.child.pid)}`];
    if (useLab) {
      const state = await readState(paths.stateFile);
      for (const [role, record] of Object.entries(state?.processes ?? {})) {
        if (role.startsWith("agent:")) memory.push(`${role} ${rssMb(record.pid)}`);
      }
    }
    console.log(`\nresident memory: ${memory.join(", ")}`);
  } finally {
    await bot.stop("SIGTERM");
    await baseline.stop();
    await ours.close();
    await theirs.close();
    stopAgents?.();
    publisher?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `npm run bench` imports the measuring functions; only a direct run measures.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
