import { readFileSync } from "node:fs";
import { sleep } from "./processes.ts";
import type { ProcessResources } from "./results.ts";

/** Clock ticks per second of /proc's CPU times (Linux on x86-64 and arm64 alike). */
const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

/** Resident memory at the end and CPU (percent of one core) over `windowMs` with nothing happening. */
export async function idleResources(
  processes: readonly { name: string; pid: number }[],
  windowMs: number,
): Promise<ProcessResources[]> {
  const alive = processes.filter((p) => {
    try {
      cpuTicks(p.pid);
      return true;
    } catch {
      return false;
    }
  });
  const before = alive.map((p) => cpuTicks(p.pid));
  const started = performance.now();
  await sleep(windowMs);
  const elapsed = (performance.now() - started) / 1000;
  return alive.map((p, i) => ({
    name: p.name,
    rssMb: rssMb(p.pid),
    idleCpuPercent: ((cpuTicks(p.pid) - (before[i] ?? 0)) / CLK_TCK / elapsed) * 100,
  }));
}
