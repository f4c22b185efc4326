import type { PgRole } from "./keepalived-conf.ts";
import type { VrrpState } from "./keepalived-notify.ts";
import type { LoggedState } from "./keepalived-observe.ts";

/**
 * Whether a node's VIP state matches its PostgreSQL role after the keepalived step (pure).
 *
 * The step runs on one node at a time, the primary's node first. On the primary's node the VIP
 * must arrive; on a standby's node it must not stay. One intermediate state is legitimate: when
 * the role moves, the new primary's node runs first while the old primary's node still
 * advertises the primary's priority. Equal priorities never preempt a MASTER, so the VIP stays
 * there until that node's step lowers its role file. The new primary's node sees itself BACKUP
 * at the highest priority a node can have: only such a stale peer can be MASTER over it, so the
 * step reports the VIP as pending rather than failing.
 */

export interface VipObservation {
  /** keepalived's container is running. */
  readonly running: boolean;
  /** The VIP is on this node's interface. */
  readonly vipHeld: boolean;
  /** The last state the notify script recorded (undefined: none yet). */
  readonly recorded: VrrpState | undefined;
  /** The last state keepalived logged entering since its container started (undefined: none seen). */
  readonly logged: LoggedState | undefined;
}

export interface VipExpectation {
  readonly role: PgRole;
  readonly node: string;
  readonly primaryNode: string;
  readonly vip: string;
  /**
   * Long enough since keepalived started (or, on the primary's node, since its priority rose)
   * for a VRRP election to have ended: more than the master-down interval, 3 adverts plus skew.
   */
  readonly settled: boolean;
  /** keepalived was (re)started by this step, so its log must show it entering a state. */
  readonly logRequired: boolean;
  /** The wait is over: anything short of the goal is a failure now. */
  readonly final: boolean;
}

export type VipVerdict =
  | { readonly kind: "ok"; readonly summary: string }
  | { readonly kind: "pending"; readonly summary: string }
  | { readonly kind: "wait"; readonly summary: string }
  | { readonly kind: "failed"; readonly summary: string; readonly hint: string };

const LOG_HINT = "the output tail is keepalived's log: fix what it names, then re-run the step";
const SCRIPT_HINT =
  "read keepalived's log (docker logs on the node): a SECURITY VIOLATION line means the notify " +
  "script or a folder above it is writable by a non-root user";

export function judgeVip(seen: VipObservation, want: VipExpectation): VipVerdict {
  if (!seen.running) {
    return { kind: "failed", summary: "keepalived is not running", hint: LOG_HINT };
  }
  if ((seen.recorded === "FAULT" || seen.logged === "FAULT") && want.settled) {
    return {
      kind: "failed",
      summary: "keepalived's instance is in FAULT state",
      hint: "check that the VIP's interface is up and that the role file holds a number; then re-run the step",
    };
  }
  const verdict = want.role === "primary" ? judgePrimary(seen, want) : judgeStandby(seen, want);
  if (verdict.kind === "wait") return want.final ? timedOut(seen, want) : verdict;
  if (want.logRequired && seen.logged === undefined) {
    return want.final
      ? { kind: "failed", summary: "keepalived never logged entering BACKUP or MASTER", hint: LOG_HINT }
      : { kind: "wait", summary: "waiting for keepalived to log its state" };
  }
  return verdict;
}

function judgePrimary(seen: VipObservation, want: VipExpectation): VipVerdict {
  if (seen.vipHeld && seen.recorded === "MASTER") {
    return { kind: "ok", summary: `MASTER, holds VIP ${want.vip}` };
  }
  if (!seen.vipHeld && seen.recorded === "BACKUP" && want.settled) {
    return {
      kind: "pending",
      summary:
        `BACKUP at the primary's priority: a peer still advertises it and keeps VIP ${want.vip}; ` +
        "the VIP moves here when the keepalived step runs on that node",
    };
  }
  return { kind: "wait", summary: `waiting for VIP ${want.vip} to arrive` };
}

function judgeStandby(seen: VipObservation, want: VipExpectation): VipVerdict {
  if (!seen.vipHeld && seen.recorded === "BACKUP" && want.settled) {
    return { kind: "ok", summary: `BACKUP, VIP ${want.vip} not here` };
  }
  return {
    kind: "wait",
    summary: seen.vipHeld ? `waiting for VIP ${want.vip} to leave` : "waiting for the election to settle",
  };
}

function timedOut(seen: VipObservation, want: VipExpectation): VipVerdict {
  if (seen.recorded === undefined) {
    return { kind: "failed", summary: "the notify script recorded no VRRP state", hint: SCRIPT_HINT };
  }
  if (want.role === "standby" && seen.vipHeld) {
    return {
      kind: "failed",
      summary: `VIP ${want.vip} stays on ${want.node}, a standby's node: ${want.primaryNode} (the primary's node) does not claim it`,
      hint:
        `run the keepalived step on ${want.primaryNode} first (the plan does), and check that its keepalived ` +
        "runs and that the nodes reach each other with VRRP (IP protocol 112, unicast)",
    };
  }
  if (want.role === "primary" && seen.vipHeld !== (seen.recorded === "MASTER")) {
    return {
      kind: "failed",
      summary: `keepalived recorded ${seen.recorded} but VIP ${want.vip} is ${seen.vipHeld ? "" : "not "}on the interface`,
      hint: "read keepalived's log on the node; removing the container and re-running the step starts it clean",
    };
  }
  return {
    kind: "failed",
    summary: `${want.node} is ${seen.recorded}, VIP ${want.vip} ${seen.vipHeld ? "held here" : "not here"}: not what its role (${want.role}) needs`,
    hint: "read keepalived's log on the node, and the peers' states",
  };
}
