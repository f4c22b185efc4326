import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { postgresContainerName } from "../../jobs/deploy/postgres-config.ts";
import { REDIS_PROCESS_KEY, readState } from "../../lab/state.ts";
import {
  ADDRESS,
  type FailoverSite,
  failoverSite,
  NODES,
  type NodeName,
  other,
  VIP,
} from "../../test/support/failover-site.ts";
import { labQuery } from "../../test/support/lab-postgres.ts";
import { cutFromControlHost, cutNodeLink, type Heal } from "../../test/support/partitions.ts";
import { runCli } from "../../test/support/processes.ts";
import { lostWrites } from "../lost-writes.ts";
import type { Ack } from "../recovery.ts";
import { WRITER_TABLE, Writer } from "../writer.ts";
import { type ChaosFault, chaosSchedule, seededRandom } from "./schedule.ts";
import { type SplitBrainMoment, SplitBrainWatch } from "./split-brain.ts";

/** How long a cut node stays off the network: past the primary lease, so the far side fails over. */
const LINK_CUT_MS = 15_000;
const REDIS_DOWN_MS = 5_000;
const SIGSTOP_LIMIT_MS = 30_000;

export interface ChaosOptions {
  readonly seed: number;
  readonly faults: number;
  readonly log: (line: string) => void;
}

export interface FaultOutcome {
  readonly index: number;
  readonly fault: ChaosFault;
  /** The primary before the fault, and after the site settled again. */
  readonly primaryBefore: string;
  readonly primaryAfter: string | undefined;
  readonly resolved: boolean;
  readonly settledMs: number;
  readonly approvalsAsked: number;
  readonly incidents: number;
  readonly error?: string;
}

export interface ChaosReport {
  readonly seed: number;
  readonly outcomes: readonly FaultOutcome[];
  readonly splitBrain: readonly SplitBrainMoment[];
  readonly writesAcknowledged: number;
  readonly writesLost: number;
  /** The first lost writes: which server acknowledged each, when, and during which fault. */
  readonly lostDetail: readonly string[];
  readonly samples: number;
}

/** A fault done to the lab; `heal` undoes what the fault left that is not the product's to repair. */
interface Injected {
  heal(): Promise<void>;
}

const nothingToHeal: Injected = { heal: async () => {} };

async function inject(
  site: FailoverSite,
  fault: ChaosFault,
  primary: NodeName,
  pick: () => number,
): Promise<Injected> {
  const { docker } = site;
  switch (fault) {
    case "postgres-kill":
      await docker(primary).getContainer(postgresContainerName(primary)).kill();
      return nothingToHeal;
    case "keepalived-kill":
      await docker(primary).getContainer(keepalivedContainerName(primary)).kill();
      return nothingToHeal;
    case "keepalived-stop":
      await docker(primary).getContainer(keepalivedContainerName(primary)).stop();
      return nothingToHeal;
    case "standby-kill":
      await docker(other(primary))
        .getContainer(postgresContainerName(other(primary)))
        .kill();
      return nothingToHeal;
    case "link-cut":
      return healedAfter(LINK_CUT_MS, await cutNodeLink(primary, site.site.vip.interface));
    case "control-cut":
      // The asymmetric partition (issue 15): the primary keeps serving, its standby still streams
      // from it, and the standby must not be promoted beside it.
      return healedAfter(LINK_CUT_MS, await cutFromControlHost(primary));
    case "postmaster-sigstop": {
      const pid = (await docker(primary).getContainer(postgresContainerName(primary)).inspect()).State.Pid;
      process.kill(pid, "SIGSTOP");
      return {
        heal: async () => {
          // Frozen until the peer has taken over (the fence kills it); should that not happen
          // within the limit, it must not stay frozen.
          await site
            .until(
              "the peer promoted",
              async () => ((await site.currentPrimary()) === other(primary) ? true : undefined),
              SIGSTOP_LIMIT_MS,
            )
            .catch(() => {});
          try {
            process.kill(pid, "SIGCONT");
          } catch {}
        },
      };
    }
    case "agent-kill": {
      const node = NODES[Math.floor(pick() * NODES.length)] ?? primary;
      const agent = (await readState(site.paths.stateFile))?.processes[`agent:${node}`];
      if (agent) process.kill(agent.pid, "SIGKILL");
      return { heal: () => labUp(site) };
    }
    case "bot-kill": {
      const active = site.bots.find(
        (bot) =>
          bot.process.child.exitCode === null &&
          /"event":"controller.lease.acquired"/.test(bot.process.output()),
      );
      active?.process.child.kill("SIGKILL");
      return {
        heal: async () => {
          // A new standby, so that the next bot-kill has someone to take over.
          await site.startBot(/"event":"bot.ready"/);
        },
      };
    }
    case "redis-restart": {
      const redis = (await readState(site.paths.stateFile))?.processes[REDIS_PROCESS_KEY];
      if (redis) process.kill(redis.pid, "SIGTERM");
      return {
        heal: async () => {
          await new Promise((resolve) => setTimeout(resolve, REDIS_DOWN_MS));
          await labUp(site);
        },
      };
    }
  }
}

/** A cut that lasts `ms` from now, however soon its heal is called. */
function healedAfter(ms: number, undo: Heal): Injected {
  const cutAt = Date.now();
  return {
    heal: async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - (Date.now() - cutAt))));
      await undo();
    },
  };
}

/** `lab up` starts what died (an agent, Redis) and leaves the rest as it is. */
async function labUp(site: FailoverSite): Promise<void> {
  const up = await runCli(["lab", "up"], site.env, 120_000);
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr || up.stdout}`);
}

async function waitForPrimary(site: FailoverSite, limitMs: number): Promise<NodeName> {
  return site.until("a primary answers", () => site.currentPrimary(), limitMs);
}

/** Longer than detection plus keepalived's takeover: the site may look whole before it reacts. */
const FAULT_DWELL_MS = 6_000;
/** Whole in this many looks in a row (250 ms apart): not a moment between two steps of a plan. */
const SETTLED_LOOKS = 4;

/** Until the site is whole again and stays so; resolves with its primary. */
async function settleAfterFault(site: FailoverSite, limitMs: number): Promise<NodeName> {
  await new Promise((resolve) => setTimeout(resolve, FAULT_DWELL_MS));
  let looks = 0;
  return site.until(
    "the site settles again",
    async () => {
      const primary = await site.currentPrimary();
      const why = primary ? await site.whyUnsettled(primary) : "no primary answers";
      looks = why ? 0 : looks + 1;
      if (why) throw new Error(why);
      return looks >= SETTLED_LOOKS ? primary : undefined;
    },
    limitMs,
  );
}

/** The acknowledged ids the final primary does not have (bench/lost-writes.ts). */
async function findLostWrites(
  primary: NodeName,
  password: string,
  acked: readonly number[],
): Promise<number[]> {
  if (acked.length === 0) return [];
  const rows = await labQuery<{ id: string }>(
    ADDRESS[primary],
    `select id from ${WRITER_TABLE} where id = any($1::bigint[])`,
    {
      password,
      timeoutMs: 30_000,
      values: [acked],
    },
  );
  return lostWrites(
    acked,
    rows.map((row) => Number(row.id)),
  );
}

/** Up to ten lost writes, each with the server that acknowledged it and the fault then running. */
function describeLost(
  lost: readonly number[],
  acks: readonly Ack[],
  windows: readonly FaultWindow[],
): string[] {
  const byId = new Map(acks.map((ack) => [ack.id, ack]));
  return lost.slice(0, 10).map((id) => {
    const ack = byId.get(id);
    if (!ack) return `id ${id}`;
    const during = windows.find((w) => ack.at >= w.from && ack.at <= w.to);
    return `id ${id} acknowledged by ${ack.server} at ${new Date(ack.at).toISOString()}${during ? ` during fault ${during.index} (${during.fault})` : " between faults"}`;
  });
}

interface FaultWindow {
  readonly index: number;
  readonly fault: ChaosFault;
  readonly from: number;
  readonly to: number;
}

/**
 * `npm run chaos`: the lab deployed with synchronous replication, two bots (one standing by), a
 * writer committing numbered rows through the VIP and a watch for split brain the whole time;
 * then the seeded schedule, one fault at a time, each followed by its heal (a cut link back up,
 * a dead Redis or agent started) and a wait until the site has settled again. The lab comes down
 * at the end, also on failure.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const site = failoverSite("chaos", { durability: "synchronous" });
  const schedule = chaosSchedule(options.seed, options.faults);
  const pick = seededRandom(options.seed ^ 0x5eed);
  let writer: Writer | undefined;
  let watch: SplitBrainWatch | undefined;
  const outcomes: FaultOutcome[] = [];
  const windows: FaultWindow[] = [];
  try {
    options.log(`chaos: seed ${options.seed}, ${schedule.length} faults; bringing the lab up`);
    await site.start();
    await site.startBot(/"event":"bot.ready"/);
    const password = site.env.HARBOR_HA_PG_PASSWORD ?? "";
    writer = new Writer(VIP, password);
    writer.start();
    watch = new SplitBrainWatch(
      site.site.nodes.map((node) => ({ name: node.name, address: node.address })),
      VIP,
      site.site.vip.interface,
      password,
    );
    watch.start();
    for (const [index, fault] of schedule.entries()) {
      const primaryBefore = await waitForPrimary(site, 120_000);
      await site.settled(primaryBefore);
      const mark = site.alertMark();
      const started = performance.now();
      const from = Date.now();
      let error: string | undefined;
      let injected: Injected = nothingToHeal;
      try {
        injected = await inject(site, fault, primaryBefore, pick);
        await injected.heal();
        await settleAfterFault(site, 180_000);
      } catch (caught) {
        error = (caught as Error).message.split("\n")[0];
        await injected.heal().catch(() => {});
      }
      const newer = site.emulator.messages(site.site.slack.alertChannel).filter((m) => Number(m.ts) > mark);
      const outcome: FaultOutcome = {
        index: index + 1,
        fault,
        primaryBefore,
        primaryAfter: await site.currentPrimary(),
        resolved: error === undefined,
        settledMs: performance.now() - started,
        approvalsAsked: newer.filter((m) => /approval\.approve/.test(JSON.stringify(m.blocks ?? []))).length,
        incidents: newer.filter((m) => m.thread_ts === undefined).length,
        ...(error ? { error } : {}),
      };
      outcomes.push(outcome);
      windows.push({ index: index + 1, fault, from, to: Date.now() });
      options.log(
        `chaos: ${outcome.index}/${schedule.length} ${fault} on ${primaryBefore}: ${outcome.resolved ? "settled" : `NOT settled (${error})`} in ${(outcome.settledMs / 1000).toFixed(1)} s, primary now ${outcome.primaryAfter ?? "none"}`,
      );
    }
    await writer.stop();
    await watch.stop();
    const acked = writer.ackedAfter(0);
    const finalPrimary = await waitForPrimary(site, 60_000);
    const lost = await findLostWrites(finalPrimary, password, acked);
    return {
      seed: options.seed,
      outcomes,
      splitBrain: watch.moments(site.site.keepalived.advertInt * 1000),
      writesAcknowledged: acked.length,
      writesLost: lost.length,
      lostDetail: describeLost(lost, writer.acksSince(0), windows),
      samples: watch.sampleCount,
    };
  } finally {
    await writer?.stop().catch(() => {});
    await watch?.stop().catch(() => {});
    await site.stop();
  }
}

/** The table `npm run chaos` prints (pure). */
export function chaosTable(report: ChaosReport): string {
  const resolved = report.outcomes.filter((o) => o.resolved).length;
  const approvals = report.outcomes.reduce((sum, o) => sum + o.approvalsAsked, 0);
  const incidents = report.outcomes.reduce((sum, o) => sum + o.incidents, 0);
  const byFault = new Map<ChaosFault, FaultOutcome[]>();
  for (const outcome of report.outcomes)
    byFault.set(outcome.fault, [...(byFault.get(outcome.fault) ?? []), outcome]);
  const rows = [...byFault].map(([fault, outcomes]) => {
    const settled = outcomes.filter((o) => o.resolved).map((o) => o.settledMs / 1000);
    const worst = settled.length > 0 ? `${Math.max(...settled).toFixed(1)} s` : "-";
    return `| ${fault} | ${outcomes.length} | ${settled.length} | ${worst} |`;
  });
  return [
    `chaos, seed ${report.seed}: ${report.outcomes.length} faults injected`,
    "",
    "| fault | injected | settled by itself | slowest to settle |",
    "| --- | ---: | ---: | ---: |",
    ...rows,
    "",
    `faults injected: ${report.outcomes.length}`,
    `settled again without a person: ${resolved} (incidents opened: ${incidents}, approvals asked: ${approvals})`,
    `split-brain moments: ${report.splitBrain.length}${report.splitBrain.map((m) => `\n  ${m.kind} (${m.nodes.join(", ")}) at ${new Date(m.at).toISOString()} for ${m.durationMs} ms`).join("")}`,
    `acknowledged writes (synchronous replication): ${report.writesAcknowledged}, lost: ${report.writesLost}${report.lostDetail.map((line) => `\n  ${line}`).join("")}`,
    `site samples taken: ${report.samples}`,
  ].join("\n");
}
