import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { HarborHaError } from "../support/errors.ts";
import { describeCommand } from "./shell.ts";

/**
 * A process the lab started. The start time (clock ticks after boot, /proc/PID/stat field 22)
 * makes the record name one process for good: a recycled PID never passes for a lab process, so
 * `down` cannot signal a stranger and `up` cannot mistake a stranger for a live daemon.
 */
export interface ProcessRecord {
  readonly pid: number;
  readonly startTime: number;
  readonly argv: readonly string[];
  readonly logFile: string;
  /** Where this start's output begins in the log file (it is appended to across restarts). */
  readonly logOffset: number;
  /** A hash of what the process was started from (argv, config); a change means restart. */
  readonly fingerprint: string;
}

export interface ProcStat {
  readonly state: string;
  readonly startTime: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const end = text.lastIndexOf(")");
  if (end < 0) return undefined;
  const fields = text.slice(end + 2).split(" ");
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (!state || !Number.isFinite(startTime)) return undefined;
  return { state, startTime };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Alive means: the PID exists, is not a zombie, and is the very process that was recorded. */
export async function isAlive(record: Pick<ProcessRecord, "pid" | "startTime">): Promise<boolean> {
  const stat = await readProcStat(record.pid);
  return (
    stat !== undefined && stat.state !== "Z" && stat.state !== "X" && stat.startTime === record.startTime
  );
}

export interface DetachedSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly fingerprint: string;
}

/**
 * Starts a long-running process in its own session with output appended to its log file, so it
 * outlives the CLI that started it. `nsenter` and `ip netns exec` exec their command, so the PID
 * recorded here is the daemon's own.
 */
export async function spawnDetached(spec: DetachedSpec): Promise<ProcessRecord> {
  const fd = openSync(spec.logFile, "a", 0o640);
  try {
    const logOffset = fstatSync(fd).size;
    writeSync(fd, `${START_MARK} ${new Date().toISOString()}: ${describeCommand(spec.command, spec.args)}\n`);
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: spec.env,
      cwd: spec.cwd,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => (child.pid === undefined ? reject(new Error("no pid")) : resolve(child.pid)));
    }).catch((cause: unknown) => {
      throw new HarborHaError("COMMAND_FAILED", `cannot start ${spec.command}: ${String(cause)}`, {
        action: describeCommand(spec.command, spec.args),
        hint: `check that ${spec.command} is installed`,
        cause,
      });
    });
    child.unref();
    const stat = await readProcStat(pid);
    return {
      pid,
      startTime: stat?.startTime ?? -1,
      argv: [spec.command, ...spec.args],
      logFile: spec.logFile,
      logOffset,
      fingerprint: spec.fingerprint,
    };
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForExit(records: readonly ProcessRecord[], timeoutMs: number): Promise<ProcessRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = [...records];
  for (;;) {
    const checks = await Promise.all(alive.map(isAlive));
    alive = alive.filter((_, i) => checks[i]);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(50);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone between the check and the signal: that is what we wanted.
  }
}

export interface StopOutcome {
  readonly stopped: number;
  readonly killed: number;
}

/**
 * Stops recorded processes by PID only: SIGTERM, then SIGKILL for those still alive after
 * `termTimeoutMs`, and waits until every one is gone.
 */
export async function stopProcesses(
  records: readonly ProcessRecord[],
  termTimeoutMs: number,
): Promise<StopOutcome> {
  const liveChecks = await Promise.all(records.map(isAlive));
  const live = records.filter((_, i) => liveChecks[i]);
  for (const record of live) signal(record.pid, "SIGTERM");
  const stubborn = await waitForExit(live, termTimeoutMs);
  for (const record of stubborn) signal(record.pid, "SIGKILL");
  const survivors = await waitForExit(stubborn, 10_000);
  if (survivors.length > 0) {
    throw new HarborHaError(
      "COMMAND_FAILED",
      `processes ${survivors.map((r) => r.pid).join(", ")} survived SIGKILL`,
      {
        action: "stop lab processes",
        hint: "a process stuck in the kernel (state D) cannot be killed; look at /proc/PID/stack",
        context: { pids: survivors.map((r) => r.pid) },
      },
    );
  }
  return { stopped: live.length - stubborn.length, killed: stubborn.length };
}

/** Kills PIDs found by the sweep (processes inside the lab's namespaces or cgroups) and waits for them. */
export async function killPids(pids: readonly number[]): Promise<number> {
  const records: ProcessRecord[] = [];
  for (const pid of pids) {
    const stat = await readProcStat(pid);
    if (stat)
      records.push({ pid, startTime: stat.startTime, argv: [], logFile: "", logOffset: 0, fingerprint: "" });
  }
  for (const record of records) signal(record.pid, "SIGKILL");
  await waitForExit(records, 10_000);
  return records.length;
}

/** Each start appends this line to the log, so a person reading it can tell the runs apart. */
export const START_MARK = "--- harbor-ha lab: started";

/**
 * Up to `maxBytes` of one start's output: from its beginning (`from: "start"`, to look for a
 * readiness line) or its end (`from: "end"`, to quote in an error). Never an earlier run's.
 */
export async function readRunLog(
  record: Pick<ProcessRecord, "logFile" | "logOffset">,
  from: "start" | "end",
  maxBytes = 1_500,
): Promise<string> {
  const handle = await open(record.logFile, "r").catch(() => undefined);
  if (!handle) return "";
  try {
    const size = (await handle.stat()).size;
    const position = from === "start" ? record.logOffset : Math.max(record.logOffset, size - maxBytes);
    const length = Math.max(0, Math.min(maxBytes, size - position));
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, position);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
