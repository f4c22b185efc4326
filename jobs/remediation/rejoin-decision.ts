import type { PostgresFacts } from "../../probes/observation.ts";

/**
 * The decisions of postgres.rejoin and postgres.restart (pure): what to do with a node's server
 * given what it says about itself, and what pg_rewind's output means.
 */

/** A server that runs while it is asked to rejoin: leave it, refuse, or stop it and rewind. */
export type RunningRejoin =
  | { readonly kind: "already"; readonly detail: string }
  | { readonly kind: "refuse"; readonly detail: string }
  | { readonly kind: "stop-and-rewind"; readonly detail: string };

export function decideRunningRejoin(facts: PostgresFacts, primaryAddress: string): RunningRejoin {
  if (facts.role === "primary") {
    return {
      kind: "refuse",
      detail: "it runs as a primary and accepts writes: fence it first (postgres.fence), then rejoin",
    };
  }
  const receiver = facts.walReceiver;
  if (receiver?.status === "streaming" && receiver.senderHost === primaryAddress) {
    return { kind: "already", detail: `it already streams from ${primaryAddress}` };
  }
  const now = receiver
    ? `its WAL receiver is ${receiver.status} from ${receiver.senderHost ?? "nowhere"}`
    : "it has no WAL receiver";
  return { kind: "stop-and-rewind", detail: `it is a standby but ${now}` };
}

/** After pg_rewind (or in place of it, for a folder that holds no cluster): start, re-clone, or fail. */
export type AfterRewind = "start" | "reclone" | "fail";

export function afterRewind(rewindSucceeded: boolean, allowReclone: boolean): AfterRewind {
  if (rewindSucceeded) return "start";
  return allowReclone ? "reclone" : "fail";
}

export interface RewindReport {
  /** pg_rewind found this node's WAL a prefix of the primary's: nothing to undo. */
  readonly noRewindRequired: boolean;
  readonly divergedAt: string | null;
  /** The timeline both shared until they diverged. */
  readonly divergedOnTimeline: number | null;
}

/** `pg_rewind: servers diverged at WAL location 0/3000148 on timeline 1`, or `no rewind required`. */
export function parseRewindOutput(output: string): RewindReport {
  const diverged = /servers diverged at WAL location ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/.exec(output);
  return {
    noRewindRequired: /no rewind required/.test(output),
    divergedAt: diverged?.[1] ?? null,
    divergedOnTimeline: diverged?.[2] ? Number(diverged[2]) : null,
  };
}

/** Why a rewind failed, for the operator: pg_rewind's own words name the usual causes. */
export function rewindHint(output: string, allowReclone: boolean): string {
  const reclone = allowReclone
    ? ""
    : " To copy the primary afresh instead, rejoin with re-clone approved (allowReclone).";
  if (/different systems|database system identifier/i.test(output)) {
    return `this node's folder belongs to another cluster than the primary's.${reclone}`;
  }
  if (/could not find previous WAL record|could not open file.*pg_wal/i.test(output)) {
    return `the primary no longer has the WAL since the two diverged (wal_keep_size).${reclone}`;
  }
  if (/wal_log_hints|data checksums/i.test(output)) {
    return `the folder has neither wal_log_hints nor data checksums: pg_rewind cannot work on it.${reclone}`;
  }
  if (/password authentication failed|no pg_hba.conf entry|could not connect/i.test(output)) {
    return "pg_rewind could not log in to the primary as the superuser: check its pg_hba.conf and the password";
  }
  return `read pg_rewind's output below.${reclone}`;
}

/**
 * Whether postgres.restart may start a stopped server as it is. A folder without standby.signal
 * holds a primary: starting it while another node was promoted makes two primaries, so only a
 * caller that knows no other primary exists (allowPrimary) may do it.
 */
export function mayRestart(standbySignal: boolean, allowPrimary: boolean): boolean {
  return standbySignal || allowPrimary;
}
