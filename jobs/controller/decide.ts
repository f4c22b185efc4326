import type { Policy } from "../../config/schema.ts";
import type { Decision, RemediationAction, Scenario } from "./remediation.ts";
import { describeAction } from "./remediation.ts";
import type { ClusterSnapshot, FindingCode, NodeView } from "./snapshot.ts";
import { readingOf, roleOf } from "./snapshot.ts";

/**
 * The runbook as a pure function: the snapshot, the policy, what the controller remembers and
 * the time in; a decision out. No I/O, no clock, no environment (STYLE.md 1). The rules are
 * one table, checked in order; the first that matches decides. Guardrails apply after it.
 */

export interface ControllerMemory {
  /** For how many observations in a row each finding has held (see confirmations.ts). */
  readonly confirmations: ReadonlyMap<string, number>;
  /** The node that last ran the primary, and its last known WAL position. */
  readonly lastPrimary: string | null;
  readonly lastPrimaryLsn: string | null;
  /** Nodes the controller fenced: their PostgreSQL stays down until rejoined. */
  readonly fenced: ReadonlySet<string>;
  /** Fenced as the losing side of two primaries: rejoining them discards their writes, so it is asked. */
  readonly diverged: ReadonlySet<string>;
  /** When automatic failovers ran (epoch ms), for flap damping. */
  readonly failovers: readonly number[];
  readonly paused: boolean;
}

export interface DecideInput {
  readonly snapshot: ClusterSnapshot;
  readonly policy: Policy;
  readonly memory: ControllerMemory;
  readonly now: number;
  /** keepalived's takeover time (vrrpTakeoverMs): a VIP on no node for less is a handover. */
  readonly vrrpTakeoverMs: number;
}

type Match = Omit<Decision, "scenario">;
interface Rule {
  readonly scenario: Scenario;
  /** Failovers are flap-damped; other repairs are not. */
  readonly failover: boolean;
  readonly match: (input: DecideInput) => Match | undefined;
}

/** DESIGN §4, in order of precedence. */
export const RULES: readonly Rule[] = [
  { scenario: "two writable primaries", failover: false, match: twoPrimaries },
  { scenario: "S1/S3: primary down on the VIP node", failover: true, match: primaryDown },
  { scenario: "S4: keepalived down on the VIP holder", failover: true, match: keepalivedDownOnHolder },
  { scenario: "S2: old primary's node is back", failover: false, match: oldPrimaryBack },
  { scenario: "VIP on two nodes", failover: false, match: vipOnTwoNodes },
  { scenario: "VIP on no node", failover: false, match: vipOnNoNode },
  { scenario: "VIP not on the primary", failover: false, match: vipNotOnPrimary },
  { scenario: "standby PostgreSQL down", failover: false, match: standbyDown },
  { scenario: "keepalived down on a standby's node", failover: false, match: keepalivedDownOnStandby },
  { scenario: "Harbor unhealthy", failover: false, match: harborUnhealthy },
];

export function decide(input: DecideInput): Decision {
  for (const rule of RULES) {
    const match = rule.match(input);
    if (match) return guard(input, rule, match);
  }
  return { scenario: "healthy", actions: [], reason: "nothing to do", needsApproval: false, nodes: [] };
}

/** Pause and flap damping turn an automatic plan into a question. */
function guard(input: DecideInput, rule: Rule, match: Match): Decision {
  const decision = { scenario: rule.scenario, ...match };
  if (decision.actions.length === 0 || decision.needsApproval) return decision;
  if (input.memory.paused) {
    return {
      ...decision,
      needsApproval: true,
      reason: `${decision.reason}; automation is paused, so it is asked`,
    };
  }
  if (rule.failover) {
    const windowMs = input.policy.flapDamping.windowMinutes * 60_000;
    const recent = input.memory.failovers.filter((at) => input.now - at < windowMs).length;
    if (recent >= input.policy.flapDamping.maxAutoFailovers) {
      return {
        ...decision,
        needsApproval: true,
        reason: `${decision.reason}; ${recent} automatic failovers in the last ${input.policy.flapDamping.windowMinutes} min (flap damping), so it is asked`,
      };
    }
  }
  return decision;
}

// ---- helpers -------------------------------------------------------------------------------

export function findingKey(code: FindingCode, node?: string): string {
  return `${code}:${node ?? "site"}`;
}

/** The finding is in this snapshot and has held for policy.confirmations probe intervals. */
function confirmed(input: DecideInput, code: FindingCode, node?: string, patience = 1): boolean {
  const present = input.snapshot.findings.some((finding) => finding.code === code && finding.node === node);
  const needed = input.policy.confirmations * patience;
  return present && (input.memory.confirmations.get(findingKey(code, node)) ?? 0) >= needed;
}

/**
 * Harbor is restarted only after it stayed unhealthy several times longer than a database fault
 * takes to confirm: it recovers by itself after a failover, and a restart holds the controller.
 */
export const HARBOR_PATIENCE = 6;

/** Harbor's health components that no restart on a Harbor node fixes (the external database). */
export const OUTSIDE_HARBOR: ReadonlySet<string> = new Set(["database"]);

function view(input: DecideInput, node: string): NodeView | undefined {
  return input.snapshot.nodes.find((candidate) => candidate.node === node);
}

const DOWN_ROLES = new Set(["stopped", "absent", "unknown"]);
const isDown = (nodeView: NodeView) => nodeView.stale || DOWN_ROLES.has(roleOf(nodeView));
const keepalivedRunning = (nodeView: NodeView) =>
  readingOf(nodeView.observation?.keepalived)?.running === true;

function standbys(input: DecideInput, except: string): NodeView[] {
  return input.snapshot.nodes.filter((n) => n.node !== except && !n.stale && roleOf(n) === "standby");
}

/** Bytes between two LSNs ("16/B374D848"), or undefined when either is unknown. */
export function lsnBytes(
  ahead: string | null | undefined,
  behind: string | null | undefined,
): number | undefined {
  const parse = (lsn: string) => {
    const [high, low] = lsn.split("/");
    return high !== undefined && low !== undefined
      ? (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
      : undefined;
  };
  if (!ahead || !behind) return undefined;
  const [a, b] = [parse(ahead), parse(behind)];
  return a === undefined || b === undefined ? undefined : Math.max(0, Number(a - b));
}

/** How far a standby is behind the primary's last known LSN; undefined when nothing tells. */
function standbyLag(input: DecideInput, standby: NodeView): number | undefined {
  const facts = readingOf(standby.observation?.postgres);
  return lsnBytes(input.memory.lastPrimaryLsn, facts?.receivedLsn) ?? facts?.replayLagBytes ?? undefined;
}

function failoverTo(input: DecideInput, from: string, why: string): Match {
  const candidates = standbys(input, from);
  // The standby with the least to replay goes first; one whose lag nothing tells goes last.
  const lagOf = (view: NodeView) => standbyLag(input, view) ?? Number.POSITIVE_INFINITY;
  const target = candidates.sort((a, b) => lagOf(a) - lagOf(b))[0];
  if (!target) {
    return {
      actions: [],
      needsApproval: true,
      nodes: [from],
      reason: `${why}, and no streaming standby is there to promote`,
    };
  }
  const lag = standbyLag(input, target);
  // The role files change last: written while the peer waits out the short timer of the fenced
  // node's priority-0 goodbye, a priority change restarts its full master down timer (3.6 s),
  // and the VIP would arrive that much later.
  const actions: RemediationAction[] = [
    { kind: "fence", node: from },
    { kind: "promote", node: target.node },
    { kind: "verify-write", node: target.node },
    { kind: "set-roles", primary: target.node },
  ];
  const plan = actions.map(describeAction).join(", then ");
  // Unknown is not zero (issue 15): promoting a standby whose lag nobody measured could lose any
  // amount of acknowledged writes, so a person decides.
  if (lag === undefined) {
    return {
      actions,
      needsApproval: true,
      nodes: [from, target.node],
      reason: `${why}; how far ${target.node} is behind is unknown (no LSN from the primary or the standby): ${plan} could lose writes, so it is asked`,
    };
  }
  if (lag > input.policy.maxLagBytes) {
    return {
      actions,
      needsApproval: true,
      nodes: [from, target.node],
      reason: `${why}; ${target.node} is ${lag} bytes behind, over policy.maxLagBytes ${input.policy.maxLagBytes}: ${plan} would lose them, so it is asked`,
    };
  }
  return {
    actions,
    needsApproval: false,
    nodes: [from, target.node],
    reason: `${why}: ${plan} (${lag} bytes behind)`,
  };
}

// ---- the rules -----------------------------------------------------------------------------

function twoPrimaries(input: DecideInput): Match | undefined {
  const { primaries, vip } = input.snapshot;
  if (primaries.length < 2 || !confirmed(input, "split-brain")) return undefined;
  const keeper = primaries.find((node) => vip.holders.includes(node));
  if (!keeper || vip.holders.length !== 1) {
    return {
      actions: [],
      needsApproval: true,
      nodes: [...primaries],
      reason: `${primaries.join(" and ")} both accept writes and the VIP does not tell which one clients use: a person must choose the timeline that survives`,
    };
  }
  const losers = primaries.filter((node) => node !== keeper);
  return {
    actions: losers.map((node): RemediationAction => ({ kind: "fence", node })),
    needsApproval: false,
    nodes: [...primaries],
    reason: `${primaries.join(" and ")} both accept writes; ${keeper} holds the VIP, so ${losers.join(", ")} is fenced now and rejoining it (which discards its writes) will be asked`,
  };
}

function primaryDown(input: DecideInput): Match | undefined {
  const { snapshot, memory } = input;
  // A controller that never saw the primary (it started as the primary died) goes by the runbook's
  // picture: PostgreSQL down on the node that holds the VIP.
  const old = memory.lastPrimary ?? vipNodeWithPostgresDown(input);
  if (snapshot.primaries.length > 0 || !old || memory.fenced.has(old)) return undefined;
  const oldView = view(input, old);
  if (!oldView || !isDown(oldView)) return undefined;
  if (!confirmed(input, oldView.stale ? "node-silent" : "postgres-down", old)) return undefined;
  if (oldView.stale && writesReach(input, old)) {
    // Only the agent is gone: the controller's own write through the VIP still lands on the
    // primary. Failing over a healthy database would be the outage.
    return undefined;
  }
  const why = oldView.stale
    ? `the primary's node ${old} is silent (no observation for ${Math.round((oldView.ageMs ?? 0) / 1000)} s)`
    : `the primary on ${old} is down (${roleOf(oldView)})`;
  return failoverTo(input, old, why);
}

/** The controller's latest write through the VIP (at most 3 probe intervals old) landed on `node`. */
function writesReach(input: DecideInput, node: string): boolean {
  const checks = input.snapshot.throughVip;
  if (!checks || input.now - checks.checkedAt > Math.max(3 * input.policy.probeIntervalMs, 3_000))
    return false;
  return checks.postgresWrite.ok && checks.postgresWrite.serverNode === node;
}

function vipNodeWithPostgresDown(input: DecideInput): string | null {
  const [holder] = input.snapshot.vip.holders;
  if (input.snapshot.vip.holders.length !== 1 || !holder) return null;
  const holderView = view(input, holder);
  return holderView && !holderView.stale && DOWN_ROLES.has(roleOf(holderView)) ? holder : null;
}

function keepalivedDownOnHolder(input: DecideInput): Match | undefined {
  const { snapshot } = input;
  const [primary] = snapshot.primaries;
  if (snapshot.primaries.length !== 1 || !primary) return undefined;
  const primaryView = view(input, primary);
  if (!primaryView || keepalivedRunning(primaryView) || !confirmed(input, "keepalived-down", primary))
    return undefined;
  const moved = snapshot.vip.holders.find((node) => node !== primary);
  if (moved)
    return failoverTo(input, primary, `keepalived is down on ${primary} and the VIP moved to ${moved}`);
  // After a crash the VIP stays on the dead keepalived's node until a peer's master down timer
  // runs out (about 3.6 s), and then two nodes hold it. Failing over now, while a peer's
  // keepalived runs to take it, removes the stray VIP first and loses no time; with no peer to
  // take it, the VIP and the primary are best left where they are.
  const taker = snapshot.nodes.find((n) => n.node !== primary && !n.stale && keepalivedRunning(n));
  if (!taker || !snapshot.vip.holders.includes(primary)) return undefined;
  return failoverTo(
    input,
    primary,
    `keepalived is down on ${primary}, which still holds the VIP; ${taker.node}'s keepalived will take it`,
  );
}

function oldPrimaryBack(input: DecideInput): Match | undefined {
  const [primary] = input.snapshot.primaries;
  if (input.snapshot.primaries.length !== 1 || !primary) return undefined;
  for (const node of input.memory.fenced) {
    const back = view(input, node);
    if (!back || back.stale || node === primary) continue;
    const actions: RemediationAction[] = [];
    if (roleOf(back) !== "standby") actions.push({ kind: "rejoin", node, primary });
    if (!keepalivedRunning(back)) {
      // Its role file may still say primary (it was fenced while its agent was silent): with the
      // primary's priority its keepalived would take the VIP back.
      actions.push({ kind: "set-roles", primary }, { kind: "start-keepalived", node });
    }
    if (actions.length === 0) continue;
    const diverged = input.memory.diverged.has(node);
    return {
      actions,
      needsApproval: diverged,
      nodes: [node],
      reason: diverged
        ? `${node} was a second primary: rejoining it to ${primary} discards the writes it took, so it is asked`
        : `${node}, the old primary, is back: ${actions.map(describeAction).join(", then ")}; the VIP stays on ${primary}`,
    };
  }
  return undefined;
}

function vipOnTwoNodes(input: DecideInput): Match | undefined {
  const { vip, primaries } = input.snapshot;
  if (vip.holders.length < 2 || !confirmed(input, "vip-split")) return undefined;
  const [primary] = primaries;
  if (primaries.length !== 1 || !primary) {
    return {
      actions: [],
      needsApproval: true,
      nodes: [...vip.holders],
      reason: `the VIP is on ${vip.holders.join(" and ")} and no single primary says which should keep it`,
    };
  }
  const others = vip.holders.filter((node) => node !== primary);
  return {
    actions: others.map((node): RemediationAction => ({ kind: "restart-keepalived", node })),
    needsApproval: false,
    nodes: [...vip.holders],
    reason: `the VIP is on ${vip.holders.join(" and ")}; the primary is ${primary}: keepalived restarts on ${others.join(", ")} (a fresh start removes the stale VIP)`,
  };
}

function vipOnNoNode(input: DecideInput): Match | undefined {
  const [primary] = input.snapshot.primaries;
  // A graceful keepalived stop leaves the VIP on no node until the peer takes it (about one
  // advert); a crash, for the master down interval. Acting sooner would undo a handover.
  const patience = Math.ceil(
    input.vrrpTakeoverMs / (input.policy.probeIntervalMs * input.policy.confirmations),
  );
  if (
    input.snapshot.vip.holders.length > 0 ||
    !primary ||
    !confirmed(input, "vip-unheld", undefined, patience)
  )
    return undefined;
  const primaryView = view(input, primary);
  const action: RemediationAction =
    primaryView && keepalivedRunning(primaryView)
      ? { kind: "restart-keepalived", node: primary }
      : { kind: "start-keepalived", node: primary };
  return {
    // The write through the VIP holds the plan until keepalived has claimed it (a fresh BACKUP
    // waits one master down interval): otherwise the next evaluation would restart it again.
    actions: [{ kind: "set-roles", primary }, action, { kind: "verify-write", node: primary }],
    needsApproval: false,
    nodes: [primary],
    reason: `the VIP is on no node: ${describeAction(action)}, the primary's node`,
  };
}

function vipNotOnPrimary(input: DecideInput): Match | undefined {
  const [primary] = input.snapshot.primaries;
  const [holder] = input.snapshot.vip.holders;
  if (!primary || !holder || holder === primary || !confirmed(input, "vip-not-on-primary")) return undefined;
  // With the primary's keepalived down the VIP left it for a reason: that is S4's to handle.
  const primaryView = view(input, primary);
  if (!primaryView || !keepalivedRunning(primaryView)) return undefined;
  return {
    actions: [{ kind: "set-roles", primary }],
    needsApproval: false,
    nodes: [primary, holder],
    reason: `the VIP is on ${holder} but the primary runs on ${primary}, whose keepalived is up: the VIP's priority goes back to ${primary}`,
  };
}

function standbyDown(input: DecideInput): Match | undefined {
  const [primary] = input.snapshot.primaries;
  if (!primary) return undefined;
  const down = input.snapshot.nodes.find(
    (n) =>
      n.node !== primary &&
      !n.stale &&
      !input.memory.fenced.has(n.node) &&
      DOWN_ROLES.has(roleOf(n)) &&
      confirmed(input, "postgres-down", n.node),
  );
  if (!down) return undefined;
  return {
    actions: [{ kind: "restart-postgres", node: down.node }],
    needsApproval: false,
    nodes: [down.node],
    reason: `the standby on ${down.node} is ${roleOf(down)}: its container is started again (the runbook's start-pg.sh, without the crontab)`,
  };
}

function keepalivedDownOnStandby(input: DecideInput): Match | undefined {
  const [primary] = input.snapshot.primaries;
  if (!primary || input.snapshot.vip.holders[0] !== primary) return undefined;
  const down = input.snapshot.nodes.find(
    (n) =>
      n.node !== primary &&
      !n.stale &&
      !input.memory.fenced.has(n.node) &&
      !keepalivedRunning(n) &&
      confirmed(input, "keepalived-down", n.node),
  );
  if (!down) return undefined;
  return {
    actions: [{ kind: "start-keepalived", node: down.node }],
    needsApproval: false,
    nodes: [down.node],
    reason: `keepalived is down on ${down.node}, a standby's node: it starts again as BACKUP (the VIP stays on ${primary})`,
  };
}

function harborUnhealthy(input: DecideInput): Match | undefined {
  // While the database or the VIP is being repaired Harbor is unhealthy everywhere; it recovers
  // on its own after. Only a sick Harbor on a sound site is Harbor's own problem.
  const { primaries, vip } = input.snapshot;
  if (primaries.length !== 1 || vip.holders.length !== 1 || vip.holders[0] !== primaries[0]) return undefined;
  const sick = input.snapshot.nodes.find(
    (n) => !n.stale && confirmed(input, "harbor-unhealthy", n.node, HARBOR_PATIENCE),
  );
  if (!sick) return undefined;
  const harbor = readingOf(sick.observation?.harbor);
  const failing = harbor ? harbor.components.filter((c) => c.status !== "healthy").map((c) => c.name) : [];
  const components = failing.filter((name) => !OUTSIDE_HARBOR.has(name));
  // Only the database failing: PostgreSQL through the VIP, which the rules above repair.
  if (failing.length > 0 && components.length === 0) return undefined;
  return {
    actions: [{ kind: "restart-harbor", node: sick.node, components }],
    needsApproval: false,
    nodes: [sick.node],
    reason: `Harbor on ${sick.node} is unhealthy${components.length > 0 ? ` (${components.join(", ")})` : ""}: its failing components restart`,
  };
}
