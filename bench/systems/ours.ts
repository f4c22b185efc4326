import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { parseDocument } from "yaml";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { postgresContainerName } from "../../jobs/deploy/postgres-config.ts";
import { labPaths } from "../../lab/index.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { waitForHttp } from "../../test/support/chat-stack.ts";
import { type Background, botArgs, runCli, startCli } from "../../test/support/processes.ts";
import { freePort } from "../../test/support/redis-server.ts";
import { vipHolders } from "../../test/support/vip.ts";
import { milestonesFromBotLog } from "../bot-log.ts";
import { ADDRESS, NODES, type NodeName, peerOf, VIP } from "../lab-facts.ts";
import { isPrimary, pgQuery } from "../pg-client.ts";
import { pollUntil } from "../poll.ts";
import { sh, sleep } from "../processes.ts";
import type { BenchSystem, FaultKind, InjectedFault, Replication, SystemMilestones } from "../system.ts";

const SIGNING_SECRET = "bench-signing-secret";
const BOT_TOKEN = "xoxb-bench";
const ALERT_CHANNEL_KEY = ["slack", "alertChannel"];

const docker = (node: string) => new Docker({ socketPath: labPaths().node(node).dockerSocket });

/**
 * harbor-ha itself: the lab's site deployed by `harbor-ha deploy` (asynchronous or synchronous
 * replication), and `harbor-ha bot` with its controller against the Slack emulator. It heals
 * itself after each fault (fence, promote, rejoin); restore() waits until it has.
 */
export class OursSystem implements BenchSystem {
  readonly name = "harbor-ha";
  readonly faults: readonly FaultKind[] = ["postgres-kill", "keepalived-kill"];
  private emulator: RunningEmulator | undefined;
  private bot: Background | undefined;
  private configDir: string | undefined;
  private alertChannel = "";

  constructor(
    readonly replication: Replication,
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void,
  ) {}

  get botPid(): number | undefined {
    return this.bot?.child.pid;
  }

  get runningEmulator(): RunningEmulator | undefined {
    return this.emulator;
  }

  async prepare(): Promise<void> {
    const paths = labPaths();
    const document = parseDocument(readFileSync(paths.config, "utf8"));
    document.setIn(["postgres", "durability"], this.replication === "sync" ? "synchronous" : "asynchronous");
    // Dozens of failovers in a few minutes: damping (unit-tested) would rightly stop them.
    document.setIn(["policy", "flapDamping", "maxAutoFailovers"], 10_000);
    this.alertChannel = String(document.getIn(ALERT_CHANNEL_KEY));
    this.configDir = mkdtempSync(join(tmpdir(), "harbor-ha-bench-"));
    const config = join(this.configDir, "site.yaml");
    writeFileSync(config, document.toString());
    this.log(`harbor-ha (${this.replication}): deploy`);
    const deployed = await runCli(["--config", config, "deploy"], this.env, 900_000);
    if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    const botPort = await freePort();
    this.emulator = await startEmulator({
      port: 0,
      botUrl: `http://127.0.0.1:${botPort}/slack/events`,
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      rateLimit: false,
    });
    const metricsPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    this.bot = startCli(botArgs(config, botPort, metricsPort), {
      ...this.env,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.emulator.apiUrl,
      HARBOR_HA_LOG_LEVEL: "info",
    });
    await waitForHttp(metricsUrl, this.bot.output);
    await this.bot.waitFor(/"event":"controller.lease.acquired"/, 30_000);
    await this.until("the bot sees a primary", async () => {
      const text = await (await fetch(metricsUrl)).text();
      return /harbor_ha_postgres_role\{node="node0\d",role="primary"\} 1/.test(text);
    });
    await this.settled(await this.primary());
  }

  /** The node whose PostgreSQL takes writes. */
  async primary(): Promise<NodeName> {
    for (const node of NODES)
      if (await isPrimary({ host: ADDRESS[node], password: this.password })) return node;
    throw new Error("no primary in the lab");
  }

  private get password(): string {
    return this.env.HARBOR_HA_PG_PASSWORD ?? "";
  }

  async injectFault(kind: FaultKind): Promise<InjectedFault> {
    const oldPrimary = await this.primary();
    const container =
      kind === "postgres-kill" ? postgresContainerName(oldPrimary) : keepalivedContainerName(oldPrimary);
    await docker(oldPrimary).getContainer(container).kill();
    return { at: Date.now(), oldPrimary, expectedPrimary: peerOf(oldPrimary) };
  }

  async milestones(fault: InjectedFault): Promise<SystemMilestones> {
    // The controller logs its decision and each action as it completes.
    await sleep(500);
    return milestonesFromBotLog(this.bot?.output().split("\n") ?? [], fault.at);
  }

  async restore(fault: InjectedFault): Promise<void> {
    await this.settled(fault.expectedPrimary as NodeName);
  }

  /** Alert-channel messages per incident so far (top messages are incidents, replies their thread). */
  messagesPerIncident(): number | null {
    const messages = this.emulator?.messages(this.alertChannel) ?? [];
    const incidents = messages.filter((m) => m.thread_ts === undefined).length;
    return incidents === 0 ? null : messages.length / incidents;
  }

  async teardown(): Promise<void> {
    await this.bot?.stop("SIGTERM");
    this.bot = undefined;
    await this.emulator?.close();
    this.emulator = undefined;
    if (this.configDir) rmSync(this.configDir, { recursive: true, force: true });
    this.configDir = undefined;
  }

  /** One VIP holder running the primary, the other node streaming with keepalived up, no open incident. */
  private async settled(primary: NodeName): Promise<void> {
    const standby = peerOf(primary);
    await this.until(`${standby} streaming from ${primary}, one VIP holder, no open incident`, async () => {
      const rows = await pgQuery<{ client_addr: string; state: string }>(
        { host: ADDRESS[primary], password: this.password },
        "select host(client_addr) as client_addr, state from pg_stat_replication",
      );
      if (!rows.some((row) => row.client_addr === ADDRESS[standby] && row.state === "streaming"))
        return false;
      const keepalived = await docker(standby).getContainer(keepalivedContainerName(standby)).inspect();
      if (!keepalived.State.Running) return false;
      const holders = await vipHolders(NODES, VIP);
      if (holders.length !== 1 || holders[0] !== primary) return false;
      const open = (this.emulator?.messages(this.alertChannel) ?? []).filter(
        (m) => m.thread_ts === undefined && /^:(rotating_light|gear|raised_hand):/.test(m.text),
      );
      return open.length === 0;
    });
  }

  private until(what: string, probe: () => Promise<boolean>, limitMs = 180_000): Promise<void> {
    return pollUntil(`harbor-ha: ${what}`, probe, limitMs, {
      context: () =>
        (this.bot?.output() ?? "")
          .split("\n")
          .filter((line) => /controller|error|warn/.test(line))
          .slice(-20)
          .join("\n"),
    });
  }
}

/**
 * Takes our stack off the nodes so a baseline can use the same addresses: our PostgreSQL and
 * keepalived containers stopped and removed (the lab's agents stay; with no bot there is no
 * controller to act on what they see), and a VIP a killed keepalived left behind removed.
 */
export async function clearOurStack(): Promise<void> {
  for (const node of NODES) {
    for (const name of [keepalivedContainerName(node), postgresContainerName(node)]) {
      const container = docker(node).getContainer(name);
      await container.stop({ t: 5 }).catch(() => {});
      await container.remove({ force: true }).catch(() => {});
    }
  }
  await removeVip();
}

/** The VIP off every node, whatever prefix it was added with. */
export async function removeVip(): Promise<void> {
  for (const node of NODES) {
    for (const prefix of [24, 32]) {
      await sh(["ip", "addr", "del", `${VIP}/${prefix}`, "dev", "eth0"], { netns: node, allowFailure: true });
    }
  }
}
