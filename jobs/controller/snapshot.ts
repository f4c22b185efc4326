import type { Durability } from "../../config/schema.ts";
import type {
  HarborFacts,
  NodeObservation,
  PostgresFacts,
  PostgresRole,
  ProbeReading,
} from "../../probes/observation.ts";
import { commitsWait, confirmingNow } from "./durability.ts";

/**
 * The cluster snapshot: the latest observation of each node, the controller's own checks
 * through the VIP, and what they add up to. Readonly data, built by a pure function from what
 * the store collected, so that `status`, the Slack card and (later) decide() all read one picture.
 */

export interface VipWriteFacts {
  /** The node whose PostgreSQL took the write (its cluster_name, which deploy sets to the node's name). */
  readonly serverNode: string | null;
}

export interface ThroughVipChecks {
  /** When the checks started, epoch ms. */
  readonly checkedAt: number;
  readonly postgresWrite: ProbeReading<VipWriteFacts>;
  readonly harbor: ProbeReading<HarborFacts>;
}

export interface NodeView {
  readonly node: string;
  readonly address: string;
  readonly observation: NodeObservation | null;
  /** How old the observation is at the snapshot's time, in ms; null when there is none. */
  readonly ageMs: number | null;
  /** No observation, or one older than the staleness limit: the node's facts are not current. */
  readonly stale: boolean;
}

export type Severity = "critical" | "warning";

/** Something wrong that an operator should know about, in one sentence. */
export interface Finding {
  readonly severity: Severity;
  /** Stable code for tests, metrics and (later) the incident it opens. */
  readonly code: FindingCode;
  readonly node?: string;
  readonly message: string;
}

export type FindingCode =
  | "node-silent"
  | "vip-unheld"
  | "vip-split"
  | "no-primary"
  | "split-brain"
  | "vip-not-on-primary"
  | "standby-not-streaming"
  | "standby-lagging"
  /** The primary's commits wait for a standby and none streams: writes hang. */
  | "commits-waiting"
  /** The primary commits without a standby although postgres.durability wants one. */
  | "commits-alone"
  | "postgres-down"
  | "keepalived-down"
  | "harbor-unhealthy"
  | "storage-failing"
  | "write-through-vip-failed"
  | "harbor-through-vip-unhealthy";

export type OverallState = "healthy" | "degraded" | "critical" | "unknown";

export interface ClusterSnapshot {
  readonly site: string;
  /** Epoch ms on the controller's clock. */
  readonly takenAt: number;
  readonly vip: { readonly address: string; readonly holders: readonly string[] };
  readonly primaries: readonly string[];
  readonly nodes: readonly NodeView[];
  readonly throughVip: ThroughVipChecks | null;
  readonly findings: readonly Finding[];
  readonly overall: OverallState;
}

export interface SnapshotInput {
  readonly site: string;
  readonly vipAddress: string;
  readonly nodes: readonly { readonly name: string; readonly address: string }[];
  readonly observations: ReadonlyMap<string, NodeObservation>;
  readonly throughVip: ThroughVipChecks | null;
  readonly now: number;
  /** An observation older than this is stale. */
  readonly staleAfterMs: number;
  readonly maxLagBytes: number;
  readonly durability: Durability;
}

export function buildSnapshot(input: SnapshotInput): ClusterSnapshot {
  const nodes = input.nodes.map((node): NodeView => {
    const observation = input.observations.get(node.name) ?? null;
    const ageMs = observation ? Math.max(0, input.now - observation.observedAt) : null;
    return {
      node: node.name,
      address: node.address,
      observation,
      ageMs,
      stale: ageMs === null || ageMs > input.staleAfterMs,
    };
  });
  const current = nodes.filter((view) => !view.stale);
  const holders = current.filter((view) => readingOf(view.observation?.vip)?.holds).map((view) => view.node);
  const primaries = current.filter((view) => roleOf(view) === "primary").map((view) => view.node);
  const findings = assess(input, nodes, holders, primaries);
  return {
    site: input.site,
    takenAt: input.now,
    vip: { address: input.vipAddress, holders },
    primaries,
    nodes,
    throughVip: input.throughVip,
    findings,
    overall: overallOf(findings, current.length),
  };
}

/** A fresh observation says this node's WAL receiver streams from a primary right now. */
export function streamsFromUpstream(snapshot: ClusterSnapshot, node: string): boolean {
  const view = snapshot.nodes.find((candidate) => candidate.node === node);
  if (!view || view.stale) return false;
  return readingOf(view.observation?.postgres)?.walReceiver?.status === "streaming";
}

/** The facts of a reading that succeeded, or undefined. */
export function readingOf<T>(reading: ProbeReading<T> | undefined): (T & { durationMs: number }) | undefined {
  return reading?.ok ? (reading as T & { durationMs: number }) : undefined;
}

export function roleOf(view: NodeView): PostgresRole {
  return readingOf(view.observation?.postgres)?.role ?? "unknown";
}

function assess(
  input: SnapshotInput,
  nodes: readonly NodeView[],
  holders: readonly string[],
  primaries: readonly string[],
): Finding[] {
  const findings: Finding[] = [];
  const add = (severity: Severity, code: FindingCode, message: string, node?: string) =>
    findings.push(node === undefined ? { severity, code, message } : { severity, code, node, message });

  for (const view of nodes) {
    if (view.stale) {
      add(
        "critical",
        "node-silent",
        view.ageMs === null
          ? `${view.node}: no observation from its agent`
          : `${view.node}: last observation ${Math.round(view.ageMs / 1000)} s old; its agent is silent`,
        view.node,
      );
    }
  }
  if (holders.length === 0) add("critical", "vip-unheld", `the VIP ${input.vipAddress} is on no node`);
  if (holders.length > 1)
    add("critical", "vip-split", `the VIP is on ${holders.length} nodes: ${holders.join(", ")}`);
  if (primaries.length === 0) add("critical", "no-primary", "no node runs a writable PostgreSQL primary");
  if (primaries.length > 1) {
    add("critical", "split-brain", `${primaries.length} writable primaries: ${primaries.join(", ")}`);
  }
  if (holders.length === 1 && primaries.length === 1 && holders[0] !== primaries[0]) {
    add(
      "critical",
      "vip-not-on-primary",
      `the VIP is on ${holders[0]} but the primary is on ${primaries[0]}: writes through the VIP fail`,
    );
  }
  for (const view of nodes.filter((candidate) => !candidate.stale)) assessNode(input, view, add);
  assessThroughVip(input.throughVip, add);
  return findings;
}

type AddFinding = (severity: Severity, code: FindingCode, message: string, node?: string) => void;

function assessNode(input: SnapshotInput, view: NodeView, add: AddFinding): void {
  const observation = view.observation;
  if (!observation) return;
  const postgres = readingOf(observation.postgres);
  const node = view.node;
  if (!postgres || postgres.role === "stopped" || postgres.role === "absent" || postgres.role === "unknown") {
    const why = postgres ? `${postgres.role}: ${postgres.detail}` : failureOf(observation.postgres);
    add("critical", "postgres-down", `${node}: PostgreSQL is not serving (${why})`, node);
  } else if (postgres.role === "primary") {
    assessDurability(input.durability, node, postgres, add);
  } else if (postgres.role === "standby") {
    const receiver = postgres.walReceiver;
    if (receiver?.status !== "streaming") {
      add(
        "warning",
        "standby-not-streaming",
        `${node}: the standby is not streaming (WAL receiver ${receiver?.status ?? "absent"})`,
        node,
      );
    }
    if (postgres.replayLagBytes !== null && postgres.replayLagBytes > input.maxLagBytes) {
      add(
        "warning",
        "standby-lagging",
        `${node}: replay lag ${postgres.replayLagBytes} bytes exceeds policy.maxLagBytes ${input.maxLagBytes}`,
        node,
      );
    }
  }
  const keepalived = readingOf(observation.keepalived);
  if (!keepalived?.running) {
    const why = keepalived ? "not running" : failureOf(observation.keepalived);
    add("critical", "keepalived-down", `${node}: keepalived is ${why}`, node);
  }
  const harbor = readingOf(observation.harbor);
  if (!harbor?.healthy) {
    add("warning", "harbor-unhealthy", `${node}: Harbor ${harborProblem(observation.harbor)}`, node);
  }
  if (!observation.storage.ok && !/not probed/.test(observation.storage.error)) {
    add("warning", "storage-failing", `${node}: shared storage: ${observation.storage.error}`, node);
  }
}

function assessDurability(
  durability: Durability,
  node: string,
  postgres: PostgresFacts,
  add: AddFinding,
): void {
  const names = postgres.synchronousStandbyNames;
  if (names === null) return;
  if (commitsWait(postgres)) {
    if (confirmingNow(postgres).length > 0) return;
    add(
      "critical",
      "commits-waiting",
      `${node}: commits wait for a synchronous standby (${names}) and none streams: writes hang${durability === "strict" ? " until one is back (postgres.durability strict)" : ""}`,
      node,
    );
  } else if (durability !== "asynchronous") {
    add(
      "warning",
      "commits-alone",
      `${node}: commits without waiting for a standby (replication asynchronous for now): a failover may lose the last acknowledged writes`,
      node,
    );
  }
}

function assessThroughVip(checks: ThroughVipChecks | null, add: AddFinding): void {
  if (!checks) return;
  if (!checks.postgresWrite.ok) {
    add(
      "critical",
      "write-through-vip-failed",
      `a write through the VIP failed: ${checks.postgresWrite.error}`,
    );
  }
  if (!readingOf(checks.harbor)?.healthy) {
    add(
      "critical",
      "harbor-through-vip-unhealthy",
      `Harbor through the VIP: ${harborProblem(checks.harbor)}`,
    );
  }
}

/** "unhealthy: database, redis" or "unreachable: connection refused". */
export function harborProblem(reading: ProbeReading<HarborFacts>): string {
  if (!reading.ok) return `unreachable: ${reading.error}`;
  const failing = reading.components.filter((component) => component.status !== "healthy");
  return failing.length === 0
    ? "healthy"
    : `unhealthy: ${failing.map((c) => (c.error ? `${c.name} (${c.error})` : c.name)).join(", ")}`;
}

function failureOf(reading: ProbeReading<unknown>): string {
  return reading.ok ? "ok" : `probe failed: ${reading.error}`;
}

function overallOf(findings: readonly Finding[], currentNodes: number): OverallState {
  if (currentNodes === 0) return "unknown";
  if (findings.some((finding) => finding.severity === "critical")) return "critical";
  return findings.length > 0 ? "degraded" : "healthy";
}
