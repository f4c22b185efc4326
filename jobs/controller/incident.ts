import type { ActionReport } from "./action-runner.ts";
import type { Decision, Scenario } from "./remediation.ts";

/**
 * An incident: one problem from detection to resolution, with one alert thread. Repeated
 * decisions about the same problem belong to the same incident. Kept in Redis, so a restarted or
 * replaced controller goes on posting in the same thread.
 */

export type IncidentState = "detected" | "remediating" | "needs-approval" | "resolved" | "failed";

export interface TimelineEntry {
  readonly label: string;
  readonly at: number;
}

export interface Incident {
  readonly id: string;
  readonly scenario: Scenario;
  readonly nodes: readonly string[];
  readonly state: IncidentState;
  readonly reason: string;
  readonly openedAt: number;
  readonly timeline: readonly TimelineEntry[];
  /** Where its thread is, once posted. */
  readonly thread: { readonly channel: string; readonly ts: string } | null;
  /** Writes the failover lost (the fenced primary's last LSN against what the standby had). */
  readonly lossBytes: number | null;
  /**
   * The promoted standby was the one the old primary's commits waited for (postgres.durability):
   * it has every acknowledged write, whatever lossBytes says of unacknowledged WAL.
   */
  readonly confirmedBy?: string;
  /**
   * Who asked for it, when a person did (a switchover, a failover, a rejoin from chat or the
   * terminal); absent when the controller opened it on a finding.
   */
  readonly requestedBy?: string;
}

/** Where incidents go: the alert channel's threads (bot/alerts), or a log in tests. */
export interface IncidentReporter {
  /** Posts the incident's top message; returns where its thread is. */
  open(incident: Incident): Promise<{ channel: string; ts: string } | null>;
  /** Edits the top message to the incident's current state. */
  update(incident: Incident): Promise<void>;
  /** One line in the thread. */
  note(incident: Incident, text: string): Promise<void>;
  step(incident: Incident, report: ActionReport): Promise<void>;
  /**
   * Asks for a person's approval of the decision's plan (or, without actions, for a decision).
   * `requester` is who asked for it: an operator's Slack ID or "cli:USER", or "controller" for
   * an automatic remediation; the requester can never approve it.
   */
  askApproval(incident: Incident, decision: Decision, requester: string): Promise<void>;
  /** A change of the site's state that is no incident (commits alone, then waiting again): one message. */
  announce(text: string): Promise<void>;
}

/** The timeline as lines: each entry with its time since detection. */
export function timelineText(incident: Incident): string {
  const start = incident.timeline[0]?.at ?? incident.openedAt;
  return incident.timeline
    .map((entry) => `+${((entry.at - start) / 1000).toFixed(2)} s  ${entry.label}`)
    .join("\n");
}

/**
 * What an open incident becomes when a different decision follows it. A follow-up that fails
 * over (its plan promotes a node) names the incident from then on: "VIP not on the primary"
 * that turns out to be keepalived down on the VIP holder is, to the operator reading the channel,
 * a failover. Any other follow-up (the old primary back, a rejoin) keeps the name. Pure.
 */
export function followedBy(incident: Incident, decision: Decision): Incident {
  const failsOver = decision.actions.some((action) => action.kind === "promote");
  if (!failsOver || incident.scenario === decision.scenario) return incident;
  return {
    ...incident,
    scenario: decision.scenario,
    reason: decision.reason,
    nodes: [...new Set([...incident.nodes, ...decision.nodes])],
  };
}

/**
 * Whether an operator's request waits for its approval: a sound site does not resolve it (the
 * switchover was asked of a sound site), until its approval could no longer come. Pure.
 */
export function awaitsApproval(
  incident: Incident | null,
  now: number,
  expiryMs: number,
): "waiting" | "expired" | undefined {
  if (!incident?.requestedBy || incident.state !== "needs-approval") return undefined;
  const askedAt = incident.timeline.at(-1)?.at ?? incident.openedAt;
  return now - askedAt < expiryMs ? "waiting" : "expired";
}

export function withTimeline(incident: Incident, label: string, at: number): Incident {
  return { ...incident, timeline: [...incident.timeline, { label, at }] };
}

/** The timeline's label for an action that succeeded. */
export function milestone(report: ActionReport): string | undefined {
  switch (report.action.kind) {
    case "fence":
      return `fenced ${report.action.node}`;
    case "promote":
      return `promoted ${report.action.node}`;
    case "set-roles":
      return `VIP priority moved to ${report.action.primary}`;
    case "verify-write":
      return `writable through the VIP (on ${report.action.node})`;
    case "rejoin":
      return `${report.action.node} rejoined as a standby`;
    default:
      return undefined;
  }
}
