import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Every process the bench starts, by PID, so that a failure or Ctrl-C stops exactly those (and
 * their children) and nothing else: never a kill by name.
 */
export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  exited(): boolean;
}

const tracked = new Map<number, Tracked>();

export interface StartOptions {
  /** Run inside this lab node's network namespace. */
  readonly netns?: string;
  /** Run as this user (setpriv execs, so the PID is the program's own). */
  readonly user?: string;
  /** Capabilities the program and its children keep as that user (Patroni's VIP callback). */
  readonly ambientCaps?: readonly string[];
  readonly log: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** The argv that runs `argv` in a namespace and as a user; `ip netns exec` and setpriv both exec. */
export function wrappedArgv(argv: readonly string[], options: Omit<StartOptions, "log">): string[] {
  let out = [...argv];
  if (options.user) {
    const caps = options.ambientCaps?.map((cap) => `+${cap}`).join(",");
    out = [
      "setpriv",
      `--reuid=${options.user}`,
      `--regid=${options.user}`,
      "--init-groups",
      ...(caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : []),
      "--",
      ...out,
    ];
  }
  if (options.netns) out = ["ip", "netns", "exec", options.netns, ...out];
  return out;
}

/** Starts a long-running program in its own process group, output appended to a log file. */
export function startTracked(name: string, argv: readonly string[], options: StartOptions): Tracked {
  const full = wrappedArgv(argv, options);
  const [command, ...args] = full;
  if (!command) throw new Error(`nothing to run for ${name}`);
  const log = createWriteStream(options.log, { flags: "a" });
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  // Two sources share one log: neither may end it (the other may still write); the exit does.
  log.on("error", () => {});
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.on("close", () => log.end());
  if (child.pid === undefined) throw new Error(`${name} did not start (${full.join(" ")})`);
  let done = false;
  child.on("exit", () => {
    done = true;
    tracked.delete(child.pid ?? -1);
  });
  child.on("error", () => {
    done = true;
  });
  const entry: Tracked = { name, child, pid: child.pid, exited: () => done };
  tracked.set(child.pid, entry);
  return entry;
}

/** PIDs of the process and all its descendants, read from /proc (children first found by ppid). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // The process ended while we read.
    }
  }
  const out: number[] = [];
  const queue = [root];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const pid = queue[i] as number;
    out.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return out;
}

/** SIGKILL to a process and every descendant at once: what `docker kill` does to a container. */
export function killTree(pid: number): void {
  for (const member of processTree(pid)) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals the process, waits up to `timeoutMs`, then kills its whole tree. */
export async function stopTracked(entry: Tracked, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000) {
  if (!entry.exited() && alive(entry.pid)) {
    try {
      process.kill(entry.pid, signal);
    } catch {
      // Gone meanwhile.
    }
    const deadline = Date.now() + timeoutMs;
    while (!entry.exited() && alive(entry.pid) && Date.now() < deadline) await sleep(100);
  }
  // Children that outlived their parent (PostgreSQL backends, a callback) go too.
  killTree(entry.pid);
  tracked.delete(entry.pid);
}

/** Stops everything still tracked, newest first. */
export async function stopAllTracked(): Promise<void> {
  for (const entry of [...tracked.values()].reverse()) await stopTracked(entry, "SIGTERM", 5_000);
}

export async function waitPidGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  return !alive(pid);
}

export interface RunOptions {
  readonly netns?: string;
  readonly user?: string;
  readonly timeoutMs?: number;
  readonly allowFailure?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a short command to its end; throws with its output when it fails (unless allowed). */
export async function sh(argv: readonly string[], options: RunOptions = {}) {
  const [command, ...args] = wrappedArgv(argv, options);
  if (!command) throw new Error("empty command");
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      timeout: options.timeoutMs ?? 60_000,
      env: options.env ?? process.env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    if (options.allowFailure) return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
    throw new Error(`${argv.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
