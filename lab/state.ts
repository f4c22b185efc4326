import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { HarborHaError } from "../support/errors.ts";
import type { ProcessRecord } from "./processes.ts";

/**
 * What `lab up` started and created, so that `lab down` removes exactly that and nothing else.
 * Up writes it before its first side effect and after each process it starts.
 */
export interface LabState {
  readonly version: 1;
  readonly nodeCount: number;
  readonly createdAt: string;
  /** Paths outside the lab's folders that did not exist before the lab (host-paths.ts). */
  readonly createdHostPaths: readonly string[];
  /** True when /run/netns was not a mount point before the lab (ip netns makes it one). */
  readonly createdNetnsMount: boolean;
  /** Keyed by role, e.g. `dockerd:node01`, `sshd:node02`, `redis`, `agent:node01`. */
  readonly processes: Readonly<Record<string, ProcessRecord>>;
}

const processSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.number().int(),
  argv: z.array(z.string()),
  logFile: z.string(),
  logOffset: z.number().int().min(0).default(0),
  fingerprint: z.string(),
});

const stateSchema = z.object({
  version: z.literal(1),
  nodeCount: z.number().int(),
  createdAt: z.string(),
  createdHostPaths: z.array(z.string()),
  createdNetnsMount: z.boolean(),
  processes: z.record(z.string(), processSchema),
});

export async function readState(file: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = stateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new HarborHaError("CONFIG_INVALID", `lab state ${file} is not readable: ${parsed.error.message}`, {
      action: "read lab state",
      hint: "the lab was made by another version; remove what is left by hand (ip netns, /var/lib/harbor-ha-lab)",
      context: { file },
    });
  }
  return parsed.data;
}

/** Written to a temporary file and renamed, so a crash never leaves half a state file. */
export async function writeState(file: string, state: LabState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

export function withProcess(state: LabState, key: string, record: ProcessRecord): LabState {
  return { ...state, processes: { ...state.processes, [key]: record } };
}

export function processKey(role: "dockerd" | "sshd" | "agent", node: string): string {
  return `${role}:${node}`;
}
export const REDIS_PROCESS_KEY = "redis";

/**
 * Holds the state in memory for one `up` and persists every change at once: each started process
 * is on disk before the next step runs, so an interrupted up can still be taken down.
 */
export class StateStore {
  #state: LabState;
  readonly #file: string;
  /** Nodes start their daemons in parallel; their writes go one after another through this chain. */
  #writes: Promise<void> = Promise.resolve();

  constructor(file: string, initial: LabState) {
    this.#file = file;
    this.#state = initial;
  }

  get current(): LabState {
    return this.#state;
  }

  recordProcess(key: string, record: ProcessRecord): Promise<void> {
    this.#state = withProcess(this.#state, key, record);
    return this.save();
  }

  /** Persists the state as it is when this write's turn comes. */
  save(): Promise<void> {
    const write = this.#writes.then(() => writeState(this.#file, this.#state));
    this.#writes = write.catch(() => undefined);
    return write;
  }
}
