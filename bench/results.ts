import { percentile } from "../test/bench/stats.ts";
import type { FaultKind, Replication } from "./system.ts";

/** One fault run, times in ms after the fault. */
export interface FaultSample {
  /** First acknowledged write through the VIP; the time limit when it never came (timedOut). */
  readonly writableMs: number;
  readonly timedOut: boolean;
  readonly detectedMs?: number;
  readonly fencedMs?: number;
  readonly promotedMs?: number;
  readonly vipMovedMs?: number;
  /** Writes acknowledged from the previous check to this one, and how many of them are gone. */
  readonly acked: number;
  readonly lost: number;
}

export interface Spread {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  /** How many runs the figure comes from (a milestone some runs lack has fewer). */
  readonly n: number;
}

export interface SeriesResult {
  readonly system: string;
  readonly replication: Replication;
  readonly fault: FaultKind;
  readonly runs: number;
  readonly timeouts: number;
  /** Fault -> first acknowledged write through the VIP (the headline figure). */
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly writesLost: number;
  readonly writesAcked: number;
  readonly milestones: {
    readonly detected: Spread | null;
    readonly fenced: Spread | null;
    readonly promoted: Spread | null;
    readonly vipMoved: Spread | null;
    readonly writable: Spread | null;
  };
  readonly samples: readonly FaultSample[];
  /** Why the fault was not run on this system, when it was not. */
  readonly skipped?: string;
}

export function spread(values: readonly (number | undefined)[]): Spread | null {
  const present = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  if (present.length === 0) return null;
  return {
    p50: percentile(present, 50),
    p95: percentile(present, 95),
    max: Math.max(...present),
    n: present.length,
  };
}

export function seriesResult(
  system: string,
  replication: Replication,
  fault: FaultKind,
  samples: readonly FaultSample[],
): SeriesResult {
  const writable = spread(samples.map((s) => s.writableMs));
  return {
    system,
    replication,
    fault,
    runs: samples.length,
    timeouts: samples.filter((s) => s.timedOut).length,
    p50: writable?.p50 ?? Number.NaN,
    p95: writable?.p95 ?? Number.NaN,
    max: writable?.max ?? Number.NaN,
    writesLost: samples.reduce((sum, s) => sum + s.lost, 0),
    writesAcked: samples.reduce((sum, s) => sum + s.acked, 0),
    milestones: {
      detected: spread(samples.map((s) => s.detectedMs)),
      fenced: spread(samples.map((s) => s.fencedMs)),
      promoted: spread(samples.map((s) => s.promotedMs)),
      vipMoved: spread(samples.map((s) => s.vipMovedMs)),
      writable,
    },
    samples,
  };
}

export interface Ratio {
  readonly fault: FaultKind;
  readonly baseline: string;
  /** Ours divided by the baseline's: below 1 is faster. */
  readonly p50: number;
  readonly p95: number;
}

/** Our asynchronous series against each baseline's, fault by fault (the baselines run asynchronous). */
export function ratios(series: readonly SeriesResult[], ours: string): Ratio[] {
  const out: Ratio[] = [];
  for (const mine of series.filter((s) => s.system === ours && s.replication === "async" && s.runs > 0)) {
    for (const theirs of series) {
      if (theirs.system === ours || theirs.fault !== mine.fault || theirs.runs === 0) continue;
      out.push({
        fault: mine.fault,
        baseline: theirs.system,
        p50: mine.p50 / theirs.p50,
        p95: mine.p95 / theirs.p95,
      });
    }
  }
  return out;
}

export interface ChatResult {
  readonly commands: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly statusAnswers: number;
  readonly statusP95Ms: number;
  /** Alert-channel messages (top messages and thread replies) per incident during the fault runs. */
  readonly messagesPerIncident: number | null;
}

export interface ProcessResources {
  readonly name: string;
  readonly rssMb: number;
  /** Percent of one core over the idle window. */
  readonly idleCpuPercent: number;
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly runsPerFault: number;
  readonly wallSeconds: number;
  readonly failover: readonly SeriesResult[];
  readonly ratios: readonly Ratio[];
  readonly chat: ChatResult | null;
  readonly resources: readonly ProcessResources[];
  readonly notes: readonly string[];
}
