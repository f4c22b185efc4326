/**
 * One HA system under test: ours, or a baseline operators use today. The bench prepares it on the
 * lab, injects each fault into it, lets it heal (or rebuilds it), and tears it down, leaving the
 * lab as it found it.
 */

export const FAULTS = ["postgres-kill", "keepalived-kill"] as const;
export type FaultKind = (typeof FAULTS)[number];

export const FAULT_TITLES: Record<FaultKind, string> = {
  "postgres-kill": "primary's PostgreSQL killed on the VIP node",
  "keepalived-kill": "keepalived killed on the VIP holder",
};

export type Replication = "async" | "sync";

/** Times after the fault (ms) as the system reports them itself; undefined when it cannot say. */
export interface SystemMilestones {
  readonly detectedMs?: number;
  readonly fencedMs?: number;
  readonly promotedMs?: number;
}

export interface InjectedFault {
  /** Date.now() when the fault was done. */
  readonly at: number;
  /** The node that ran the primary (and held the VIP) before the fault. */
  readonly oldPrimary: string;
  /** The node that should serve afterwards (the same node when the system restarts in place). */
  readonly expectedPrimary: string;
  /**
   * Count the first write after the outage whichever server takes it: the runbook's scripts
   * may end a keepalived crash with the old primary serving through a stale VIP.
   */
  readonly anyServer?: boolean;
}

export interface BenchSystem {
  readonly name: string;
  readonly replication: Replication;
  /** Faults that mean something for this system (Patroni has no keepalived to kill). */
  readonly faults: readonly FaultKind[];
  /** Why a fault is left out, for the table. */
  readonly skipped?: Partial<Record<FaultKind, string>>;
  prepare(): Promise<void>;
  injectFault(kind: FaultKind): Promise<InjectedFault>;
  /** What the system says about detection, fencing and promotion of this fault. */
  milestones(fault: InjectedFault): Promise<SystemMilestones>;
  /** Back to one primary with a streaming standby and the VIP on the primary. */
  restore(fault: InjectedFault): Promise<void>;
  teardown(): Promise<void>;
}
