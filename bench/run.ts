// `npm run bench` (DESIGN.md §7): failover of harbor-ha beside the runbook's design and Patroni,
// the same faults in the same run on the same lab; then the chat and resource figures. Root
// needed. It brings the lab up and always takes it down, stopping by PID what it started.
import { join } from "node:path";
import { type LabPaths, labDown, labPaths, labUp, readEnvFile } from "../lab/index.ts";
import { BENCH_PACKAGES, ensurePackages } from "../lab/packages.ts";
import { readState } from "../lab/state.ts";
import { createLogger } from "../support/logger.ts";
import { ACKS, measureAcks, measureStatus, STATUS_ANSWERS } from "../test/bench/chat.ts";
import { labIsUp } from "../test/support/own-lab.ts";
import { NODES, VIP } from "./lab-facts.ts";
import { runFault } from "./measure-fault.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { stopAllTracked } from "./processes.ts";
import { writeReports } from "./report-files.ts";
import { idleResources } from "./resources.ts";
import {
  type BenchResults,
  type ChatResult,
  type FaultSample,
  type ProcessResources,
  ratios,
  type SeriesResult,
  seriesResult,
} from "./results.ts";
import type { BenchSystem } from "./system.ts";
import { FAULTS } from "./system.ts";
import { clearOurStack, OursSystem } from "./systems/ours.ts";
import { PatroniSystem } from "./systems/patroni.ts";
import { RunbookSystem } from "./systems/runbook.ts";
import { renderReport } from "./table.ts";
import { VipWatch } from "./vip-watch.ts";
import { Writer } from "./writer.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const logger = createLogger({ component: "bench", level: "warn", destination: process.stderr });

let current: BenchSystem | undefined;
let writer: Writer | undefined;
let vipWatch: VipWatch | undefined;
let labBroughtUp = false;
let cleaning: Promise<void> | undefined;

/** Everything the bench made goes, once, whether it ended well, failed or was interrupted. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await writer?.stop().catch(() => {});
    await current
      ?.teardown()
      .catch((error) => say(`teardown of ${current?.name}: ${(error as Error).message}`));
    await vipWatch?.stop().catch(() => {});
    await stopAllTracked();
    if (labBroughtUp) {
      say("bench: lab down");
      await labDown({ logger });
    }
  })();
  return cleaning;
}

// A crash anywhere (an emitter's unhandled error) still takes down what the bench made.
process.on("uncaughtException", (error) => {
  say(`bench: unexpected error: ${error.stack ?? error}`);
  void cleanup().finally(() => process.exit(1));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`bench: ${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function runSystem(
  system: BenchSystem,
  options: BenchOptions,
  password: string,
  prepared: () => Promise<void> = async () => {},
): Promise<SeriesResult[]> {
  const out: SeriesResult[] = [];
  current = system;
  say(`\n== ${system.name} (${system.replication}): prepare`);
  await system.prepare();
  await prepared();
  writer?.start();
  for (const fault of FAULTS) {
    if (!system.faults.includes(fault)) {
      out.push({
        ...seriesResult(system.name, system.replication, fault, []),
        skipped: system.skipped?.[fault] ?? "n/a",
      });
      continue;
    }
    const samples: FaultSample[] = [];
    for (let i = 0; i < options.runs; i++) {
      samples.push(
        await runFault(system, fault, {
          writer: writer as Writer,
          vip: vipWatch as VipWatch,
          password,
          limitMs: options.limitMs,
          log: say,
        }),
      );
    }
    out.push(seriesResult(system.name, system.replication, fault, samples));
  }
  return out;
}

async function ourProcesses(
  paths: LabPaths,
  bot: number | undefined,
): Promise<{ name: string; pid: number }[]> {
  const state = await readState(paths.stateFile);
  const list = Object.entries(state?.processes ?? {})
    .filter(([role]) => role.startsWith("agent:"))
    .map(([role, record]) => ({ name: role, pid: record.pid }));
  return bot ? [{ name: "bot", pid: bot }, ...list] : list;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  if (process.getuid?.() !== 0) throw new Error("npm run bench needs root (the lab: namespaces, daemons)");
  say(`bench: checking system packages (apt-get installs any missing: ${BENCH_PACKAGES.join(" ")})`);
  say(`bench: ${(await ensurePackages(BENCH_PACKAGES)).detail}`);
  if (await labIsUp()) {
    throw new Error(
      "a lab is already up: run `harbor-ha lab down` first (the bench does not take down a lab it did not bring up)",
    );
  }
  const paths = labPaths();
  say("bench: lab up");
  labBroughtUp = true;
  await labUp({ logger });
  const env = await readEnvFile(paths.env);
  const password = env.HARBOR_HA_PG_PASSWORD ?? "";
  writer = new Writer(VIP, password);
  vipWatch = new VipWatch(VIP, NODES, join(paths.logDir, "bench-ip-monitor.log"));
  vipWatch.start();

  const series: SeriesResult[] = [];
  let chat: ChatResult | null = null;
  let resources: ProcessResources[] = [];
  const notes: string[] = [
    "baselines run the host's PostgreSQL 15 in the node namespaces (the node image has no repmgr; Patroni starts its own server); ours runs in the lab's containers",
    "runbook: rebuilt for every fault (it leaves rejoining the old primary to a person); its cron scripts start at a random phase",
  ];
  for (const replication of ["async", "sync"] as const) {
    if (!options.systems.includes(replication === "async" ? "ours" : "ours-sync")) continue;
    const ours = new OursSystem(replication, env, say);
    const idle = async () => {
      if (replication !== "async") return;
      // Before the writer starts: the bot and the agents with nothing to do but watch.
      say("bench: idle resources of the bot and the agents");
      resources = await idleResources(await ourProcesses(paths, ours.botPid), options.quick ? 5_000 : 15_000);
    };
    series.push(...(await runSystem(ours, options, password, idle)));
    if (replication === "async" && options.chat && ours.runningEmulator) {
      say(`bench: chat: ${ACKS} slash commands, ${STATUS_ANSWERS} /harbor status`);
      const perIncident = ours.messagesPerIncident();
      const target = { name: "harbor-ha bot", emulator: ours.runningEmulator, cardPrefix: "lab:" };
      const acks = await measureAcks(target);
      const status = await measureStatus(target);
      chat = {
        commands: acks.count,
        ackP50Ms: acks.p50,
        ackP99Ms: acks.p99,
        statusAnswers: status.count,
        statusP95Ms: status.p95,
        messagesPerIncident: perIncident,
      };
    }
    await ours.teardown();
    current = undefined;
  }
  say("bench: our stack off the nodes for the baselines");
  await clearOurStack();
  if (options.systems.includes("runbook")) {
    series.push(...(await runSystem(new RunbookSystem(say), options, password)));
    await current?.teardown();
    current = undefined;
  }
  if (options.systems.includes("patroni")) {
    series.push(...(await runSystem(new PatroniSystem(say), options, password)));
    await current?.teardown();
    current = undefined;
  }
  await cleanup();
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    quick: options.quick,
    runsPerFault: options.runs,
    wallSeconds: (performance.now() - started) / 1000,
    failover: series,
    ratios: ratios(series, "harbor-ha"),
    chat,
    resources,
    notes,
  };
  const files = writeReports(results);
  say(`\n${renderReport(results)}`);
  say(`\nbench: ${files.json}, ${files.svg}; ${(results.wallSeconds / 60).toFixed(1)} min`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  say(`bench failed: ${(error as Error).stack ?? error}`);
  await cleanup();
  // Whatever handle a failure left open (a server, a socket), the process ends here.
  process.exit(1);
}
