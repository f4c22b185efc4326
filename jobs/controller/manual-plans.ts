import type { Policy } from "../../config/schema.ts";
import { lsnBytes } from "./decide.ts";
import type { Decision, RemediationAction } from "./remediation.ts";
import { type ClusterSnapshot, type NodeView, readingOf, roleOf } from "./snapshot.ts";

/**
 * The operator's commands as plans (pure): `switchover`, `failover` and `rejoin`. Each returns the
 * plan, or why it cannot be made with the cluster as it is; nothing runs here.
 */

export type ManualPlan =
  | { readonly ok: true; readonly decision: Decision }
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): ManualPlan => ({ ok: false, reason });

function onePrimary(snapshot: ClusterSnapshot): NodeView | string {
  if (snapshot.primaries.length !== 1) {
    return snapshot.primaries.length === 0
      ? "there is no primary"
      : `there are ${snapshot.primaries.length} primaries`;
  }
  const primary = snapshot.nodes.find((view) => view.node === snapshot.primaries[0]);
  return primary ?? "the primary has no observation";
}

function pickStandby(snapshot: ClusterSnapshot, primary: string, target?: string): NodeView | string {
  const standbys = snapshot.nodes.filter(
    (view) => view.node !== primary && !view.stale && roleOf(view) === "standby",
  );
  if (target) {
    if (target === primary) return `${target} is already the primary`;
    const chosen = standbys.find((view) => view.node === target);
    return (
      chosen ??
      `${target} is not a current standby (standbys: ${standbys.map((v) => v.node).join(", ") || "none"})`
    );
  }
  return standbys[0] ?? "there is no current standby";
}

/**
 * A planned switchover with no lost write: the standby must be streaming; the primary stops
 * taking writes; the standby replays up to the primary's last LSN; only then is the old primary
 * fenced and the standby promoted; the old primary rejoins as a standby. It moves the primary,
 * so a site asks for an approval first unless slack.approval.switchover is false.
 */
export function switchoverPlan(
  snapshot: ClusterSnapshot,
  target?: string,
  options: { readonly needsApproval: boolean } = { needsApproval: true },
): ManualPlan {
  const primary = onePrimary(snapshot);
  if (typeof primary === "string") return refuse(`no switchover: ${primary}`);
  const standby = pickStandby(snapshot, primary.node, target);
  if (typeof standby === "string") return refuse(`no switchover: ${standby}`);
  const receiver = readingOf(standby.observation?.postgres)?.walReceiver;
  if (receiver?.status !== "streaming") {
    return refuse(
      `no switchover: ${standby.node} is not streaming (WAL receiver ${receiver?.status ?? "absent"}); a failover would lose writes`,
    );
  }
  const [from, to] = [primary.node, standby.node];
  const actions: RemediationAction[] = [
    { kind: "block-writes", node: from },
    { kind: "wait-replay", node: to },
    { kind: "fence", node: from },
    // The VIP moves by the fenced node's priority-0 goodbye; the role files change after the
    // move (see failoverTo in decide.ts) and before the old primary's keepalived starts again.
    { kind: "promote", node: to },
    { kind: "verify-write", node: to },
    { kind: "rejoin", node: from, primary: to },
    { kind: "set-roles", primary: to },
    { kind: "start-keepalived", node: from },
  ];
  return {
    ok: true,
    decision: {
      scenario: "switchover",
      actions,
      needsApproval: options.needsApproval,
      nodes: [from, to],
      reason: `switchover from ${from} to ${to}: writes pause on ${from} until ${to} has every one of them`,
    },
  };
}

/**
 * A forced failover to the standby, whatever the primary's state: always asked, and the
 * question says how much the standby lags, which is what the failover may lose.
 */
export function failoverPlan(
  snapshot: ClusterSnapshot,
  lastPrimary: string | null,
  lastPrimaryLsn: string | null,
  policy: Policy,
  target?: string,
): ManualPlan {
  const from = snapshot.primaries[0] ?? lastPrimary;
  if (!from) return refuse("no failover: no primary is known to fail over from");
  const standby = pickStandby(snapshot, from, target);
  if (typeof standby === "string") return refuse(`no failover: ${standby}`);
  const facts = readingOf(standby.observation?.postgres);
  const primaryLsn =
    readingOf(snapshot.nodes.find((v) => v.node === from)?.observation?.postgres)?.currentLsn ??
    lastPrimaryLsn;
  const lag = lsnBytes(primaryLsn, facts?.receivedLsn) ?? facts?.replayLagBytes ?? null;
  const lagText = lag === null ? "an unknown amount" : `${lag} bytes`;
  return {
    ok: true,
    decision: {
      scenario: "manual failover",
      actions: [
        { kind: "fence", node: from },
        { kind: "promote", node: standby.node },
        { kind: "verify-write", node: standby.node },
        { kind: "set-roles", primary: standby.node },
      ],
      needsApproval: true,
      forced: true,
      nodes: [from, standby.node],
      reason: `forced failover from ${from} to ${standby.node}: ${standby.node} is ${lagText} behind${lag !== null && lag > policy.maxLagBytes ? ` (over policy.maxLagBytes ${policy.maxLagBytes})` : ""}; writes it has not received are lost; if ${from} cannot be fenced (unreachable), the failover goes on`,
    },
  };
}

/** An old primary (or a broken standby) back as a standby of the primary; re-cloning is asked. */
export function rejoinPlan(snapshot: ClusterSnapshot, node: string, reclone: boolean): ManualPlan {
  const primary = onePrimary(snapshot);
  if (typeof primary === "string") return refuse(`no rejoin: ${primary}`);
  if (node === primary.node) return refuse(`no rejoin: ${node} is the primary`);
  const view = snapshot.nodes.find((candidate) => candidate.node === node);
  if (!view) return refuse(`no rejoin: no node named ${node}`);
  if (view.stale) return refuse(`no rejoin: ${node}'s agent is silent`);
  return {
    ok: true,
    decision: {
      scenario: "rejoin",
      actions: [
        { kind: "rejoin", node, primary: primary.node, ...(reclone ? { allowReclone: true } : {}) },
        // The role files first: a rejoined node's may still say primary.
        { kind: "set-roles", primary: primary.node },
        { kind: "start-keepalived", node },
      ],
      needsApproval: reclone,
      nodes: [node],
      reason: reclone
        ? `rejoin ${node} to ${primary.node}; if pg_rewind fails, re-clone it with pg_basebackup, which discards what only ${node} holds`
        : `rejoin ${node} to ${primary.node} with pg_rewind`,
    },
  };
}
