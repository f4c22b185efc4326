import type { PostgresFacts } from "../probes/observation.ts";

/**
 * The primary's lease (DESIGN §4): the agent on the node that runs the primary renews a key in
 * the control-plane Redis on every observation round. A controller that cannot fence that node,
 * by its agent or by SSH, waits for the key to run out; but the key running out proves only that
 * the agent lost Redis, not that the primary stopped. What makes the failover safe is one link,
 * seen from both of its ends: the replication connection between the primary and its standby.
 *
 * - The primary's agent, cut from Redis for half the lease, keeps its primary serving only while
 *   a standby streams from it (a reply within STANDBY_REPLY_FRESH_MS); otherwise it stops it.
 * - The standby refuses to be promoted while its WAL receiver still streams from a primary
 *   (jobs/executors/remediation/postgres-promote.ts): that primary is alive, whatever Redis says.
 *
 * So a primary cut off from the control host alone goes on serving and is not failed over (no
 * second primary), and a primary cut off from its standby too stops itself before the standby
 * may take over. wal_receiver_timeout is set (walReceiverTimeoutMs) so that the standby notices a
 * silently broken link only after the primary's agent has seen it and stopped its PostgreSQL.
 * This file is the shared, pure part.
 */

export function primaryLeaseKey(site: string, node: string): string {
  return `harbor-ha:${site}:primary-lease:${node}`;
}

/** wal_receiver_status_interval: a standby replies to its primary every second. */
export const STANDBY_REPLY_INTERVAL_SECONDS = 1;
/** A reply younger than this (two and a half reply intervals) is a live replication link. */
export const STANDBY_REPLY_FRESH_MS = 2_500;
/** How long the self-fence's stop may take (docker stop's grace before it kills). */
export const SELF_FENCE_STOP_SECONDS = 2;

/**
 * wal_receiver_timeout: how long a standby's WAL receiver waits on a silent primary before it
 * stops streaming. Longer than the primary's agent takes to see the same silence and stop its
 * PostgreSQL (a stale reply, the next probe round, the stop, a second of margin), so the standby
 * never finds the link dead while the primary still serves. Whole seconds, as PostgreSQL takes it.
 */
export function walReceiverTimeoutMs(probeIntervalMs: number): number {
  const primarySeesIt = STANDBY_REPLY_FRESH_MS + probeIntervalMs + SELF_FENCE_STOP_SECONDS * 1_000;
  return Math.ceil((primarySeesIt + 1_000) / 1_000) * 1_000;
}

/** The standbys that stream from this primary now, by a reply fresher than STANDBY_REPLY_FRESH_MS. */
export function streamingStandbys(postgres: Pick<PostgresFacts, "replication">): string[] {
  return postgres.replication
    .filter(
      (standby) =>
        standby.state === "streaming" &&
        standby.replyAgeSeconds !== null &&
        standby.replyAgeSeconds * 1_000 < STANDBY_REPLY_FRESH_MS,
    )
    .map((standby) => standby.applicationName);
}

export interface SelfFenceInput {
  /** This node's PostgreSQL accepts writes. */
  readonly isPrimary: boolean;
  /** Since the last renewal that Redis acknowledged (or since the node became primary). */
  readonly sinceRenewedMs: number;
  readonly leaseMs: number;
  /** Standbys streaming from this primary now (streamingStandbys). */
  readonly streamingStandbys: readonly string[];
}

/**
 * Half the lease: the other half covers the stop itself (a fast shutdown takes a tenth of a
 * second) and the clocks' small disagreement, so the agent is done before the key expires.
 */
export function selfFenceAfterMs(leaseMs: number): number {
  return Math.floor(leaseMs / 2);
}

export type SelfFenceVerdict = "renewing" | "hold" | "fence";

/**
 * A Redis outage alone must not stop a healthy primary: it holds while a standby streams from
 * it, because that standby will not be promoted beside it. A primary no standby streams from
 * may be the one cut off, and a standby may be promoted once the lease is gone: it stops.
 */
export function selfFenceVerdict(input: SelfFenceInput): SelfFenceVerdict {
  if (!input.isPrimary || input.sinceRenewedMs < selfFenceAfterMs(input.leaseMs)) return "renewing";
  return input.streamingStandbys.length > 0 ? "hold" : "fence";
}

/**
 * Whether a standby still streams WAL from a primary (its own view of the same link): then that
 * primary is alive and the standby must not be promoted. Null when it does not.
 */
export function liveUpstream(postgres: Pick<PostgresFacts, "role" | "walReceiver">): string | null {
  if (postgres.role !== "standby" || postgres.walReceiver?.status !== "streaming") return null;
  return postgres.walReceiver.senderHost ?? "its primary";
}
