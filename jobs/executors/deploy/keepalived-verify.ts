import { setTimeout as sleep } from "node:timers/promises";
import type { Containers } from "../../adapters/containers.ts";
import { type KeepalivedLayout, type PgRole, VRRP_INSTANCE } from "../../deploy/keepalived-conf.ts";
import { parseStateLine, type StateRecord } from "../../deploy/keepalived-notify.ts";
import { holdsAddress, loggedStates } from "../../deploy/keepalived-observe.ts";
import { judgeVip, type VipObservation, type VipVerdict } from "../../deploy/keepalived-verdict.ts";
import { readTextIfExists, showIpv4Addresses } from "./keepalived-host.ts";

const POLL_MS = 250;
/** How far back keepalived's log is read for the state it entered. */
const LOG_LINES = 400;

/**
 * How long a VRRP election can take after keepalived starts or its priority rises: the
 * master-down interval (3 adverts plus a skew under one advert), plus a margin for a loaded
 * machine. About 5.5 s at advert_int 1 (LAB.md: the first VIP comes after 3.6 s).
 */
export function settleMs(advertInt: number): number {
  return Math.ceil(4 * advertInt * 1000) + 1_500;
}

/** The whole wait: the election, then a few more seconds for a demoted peer to let go. */
export function verifyBudgetMs(advertInt: number): number {
  return settleMs(advertInt) + 5_000;
}

export interface VipWatch {
  readonly containers: Containers;
  readonly container: string;
  readonly layout: KeepalivedLayout;
  readonly iface: string;
  readonly vip: string;
  readonly node: string;
  readonly primaryNode: string;
  readonly role: PgRole;
  readonly advertInt: number;
  /** When this step (re)started keepalived (ms, performance.now()), if it did. */
  readonly restartedAt?: number;
  /** When this step raised the node's priority (ms, performance.now()), if it did. */
  readonly raisedAt?: number;
}

/** What a wait ends with: the goal, a legitimate pending state, or a failure. */
export type FinalVerdict = Exclude<VipVerdict, { kind: "wait" }>;

export interface VipSeen extends VipObservation {
  readonly record: StateRecord | undefined;
}

export async function observeVip(watch: VipWatch, readLog: boolean): Promise<VipSeen> {
  const state = await watch.containers.inspect(watch.container);
  const running = state?.running ?? false;
  const [stateText, addresses, log] = await Promise.all([
    readTextIfExists(watch.layout.stateFile),
    showIpv4Addresses(watch.iface),
    readLog && running ? watch.containers.logsTail(watch.container, LOG_LINES) : Promise.resolve(""),
  ]);
  const record = parseStateLine(stateText);
  return {
    running,
    vipHeld: holdsAddress(addresses, watch.vip),
    recorded: record?.state,
    logged: loggedStates(log, VRRP_INSTANCE).at(-1),
    record,
  };
}

/**
 * Polls until the node's VIP state matches its role (or is legitimately pending), or the budget
 * runs out. Returns the verdict and what was seen last.
 */
export async function waitForVip(
  watch: VipWatch,
  signal: AbortSignal,
): Promise<{ verdict: FinalVerdict; seen: VipSeen; waitedMs: number }> {
  const started = performance.now();
  const budget = verifyBudgetMs(watch.advertInt);
  const logRequired = watch.restartedAt !== undefined;
  // Lowering a priority cannot make a node MASTER: only a (re)start makes a standby's node wait.
  const since =
    watch.role === "primary"
      ? Math.max(watch.restartedAt ?? -Infinity, watch.raisedAt ?? -Infinity)
      : (watch.restartedAt ?? -Infinity);
  for (;;) {
    signal.throwIfAborted();
    const now = performance.now();
    const final = now - started >= budget;
    const seen = await observeVip(watch, logRequired);
    const verdict = judgeVip(seen, {
      role: watch.role,
      node: watch.node,
      primaryNode: watch.primaryNode,
      vip: watch.vip,
      settled: now - since >= settleMs(watch.advertInt),
      logRequired,
      final,
    });
    if (verdict.kind !== "wait") {
      return { verdict, seen, waitedMs: Math.round(performance.now() - started) };
    }
    await sleep(POLL_MS, undefined, { signal });
  }
}
