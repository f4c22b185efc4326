import { homedir } from "node:os";
import { HarborHaError } from "../support/errors.ts";
import {
  type DetachedSpec,
  isAlive,
  type ProcessRecord,
  readRunLog,
  spawnDetached,
  stopProcesses,
} from "./processes.ts";
import type { StateStore } from "./state.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/** A long-running lab process: how to start it and how to tell that it serves. */
export interface DaemonSpec extends DetachedSpec {
  /** The key it is recorded under in the lab state. */
  readonly key: string;
  /** One probe of the started process: true once it answers (a ping, a banner, a log line). */
  readonly ready: (record: ProcessRecord) => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

export type DaemonOutcome = "running" | "started" | "restarted";

export type DaemonDecision = "keep" | "start" | "restart" | "replace";

/**
 * What to do with a daemon given its record: keep a live one started from the same spec, start
 * one never recorded, restart a recorded one that died, replace a live one whose spec changed.
 */
export function decideDaemon(
  record: ProcessRecord | undefined,
  alive: boolean,
  fingerprint: string,
): DaemonDecision {
  if (!record) return "start";
  if (!alive) return "restart";
  return record.fingerprint === fingerprint ? "keep" : "replace";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilServing(spec: DaemonSpec, record: ProcessRecord): Promise<void> {
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (await spec.ready(record).catch(() => false)) return;
    if (!(await isAlive(record))) throw await notServing(spec, record, "exited before it answered");
    if (Date.now() > deadline) throw await notServing(spec, record, "did not answer in time");
    await sleep(100);
  }
}

async function notServing(spec: DaemonSpec, record: ProcessRecord, what: string): Promise<HarborHaError> {
  const log = (await readRunLog(record, "end", 800)).trim();
  return new HarborHaError(
    "LAB_STEP_FAILED",
    `${spec.key} (pid ${record.pid}) ${what}${log ? `; its log ends:\n${log}` : ""}`,
    {
      action: `start ${spec.key}`,
      hint: `read ${spec.logFile}`,
      context: { key: spec.key, pid: record.pid, argv: record.argv },
    },
  );
}

/**
 * Makes sure one daemon runs from the given spec, recording any process it starts before it waits
 * for it, so that even a daemon that never becomes ready is known to `lab down`.
 */
export async function ensureDaemon(store: StateStore, spec: DaemonSpec): Promise<DaemonOutcome> {
  const record = store.current.processes[spec.key];
  const alive = record ? await isAlive(record) : false;
  const decision = decideDaemon(record, alive, spec.fingerprint);
  if (decision === "keep" && record) {
    await waitUntilServing(spec, record);
    return "running";
  }
  if (decision === "replace" && record) await stopProcesses([record], 20_000);
  const started = await spawnDetached(spec);
  await store.recordProcess(spec.key, started);
  await waitUntilServing(spec, started);
  return decision === "start" ? "started" : "restarted";
}

/** "node01 started, node02 running" → a step's detail, and whether anything changed. */
export function summarizeOutcomes(outcomes: readonly { name: string; outcome: DaemonOutcome }[]): {
  changed: boolean;
  text: string;
} {
  const changedOnes = outcomes.filter((o) => o.outcome !== "running");
  if (changedOnes.length === 0)
    return { changed: false, text: `${outcomes.map((o) => o.name).join(", ")} running` };
  return { changed: true, text: outcomes.map((o) => `${o.name} ${o.outcome}`).join(", ") };
}

/**
 * One daemon per node, all at once: the step's result says which were started or restarted
 * (`${label} node01 started, node02 running`) and whether anything changed.
 */
export async function ensureNodeDaemons<N extends { name: string }>(
  store: StateStore,
  nodes: readonly N[],
  specFor: (node: N) => Promise<DaemonSpec> | DaemonSpec,
  describe: (summary: string) => string,
): Promise<StepResult> {
  const outcomes = await Promise.all(
    nodes.map(async (node) => ({ name: node.name, outcome: await ensureDaemon(store, await specFor(node)) })),
  );
  const summary = summarizeOutcomes(outcomes);
  const detail = describe(summary.text);
  return summary.changed ? changed(detail) : unchanged(detail);
}

/** The environment the lab's daemons start from: Debian's binaries first, nothing inherited by accident. */
export function daemonEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: base.HOME ?? homedir(), LANG: "C.UTF-8" };
}
