import type { PgRole } from "../deploy/keepalived-conf.ts";
import type { VrrpState } from "../deploy/keepalived-notify.ts";

/**
 * What the controller and an agent say to each other about one remediation action: the request
 * each job carries and the result it answers with. Every action checks its precondition, acts,
 * verifies its postcondition and says so in one sentence (`detail`); an expected failure is a
 * result with a reason, never a throw. Running an action twice is harmless: the second run's
 * outcome is "already".
 */

/** Every remediation request carries the controller lease's token it was sent under. */
export interface FencedRequest {
  readonly fencingToken: number;
}

export interface KeepalivedStopRequest extends FencedRequest {
  /**
   * Return once this node has released the VIP (its priority-0 advert), without waiting about a
   * second more for keepalived to exit: the fence of a failover. A stop before a start must wait.
   */
  readonly untilVipReleased?: boolean;
}

export interface ActionTiming {
  /** "stop pg-node01", "pg_promote", "verify a write". */
  readonly step: string;
  readonly ms: number;
}

/** Why an action did not reach its postcondition; the controller switches on these. */
export type FailureReason =
  /** Nothing of ours to act on: the container or its files are missing (deploy first). */
  | "not-deployed"
  | "not-running"
  | "not-primary"
  | "not-standby"
  /** The request does not fit the site (an unknown node, an address that is not the node's). */
  | "bad-request"
  /** Starting this folder would make a second primary (no standby.signal). */
  | "would-start-primary"
  /** The old primary still runs and accepts writes: fence it first. */
  | "still-running-primary"
  /** A primary still streams WAL to this standby: promoting it would make two primaries. */
  | "upstream-alive"
  | "primary-unreachable"
  /** The folder holds no cluster to rewind (and re-cloning was not allowed). */
  | "no-cluster"
  | "rewind-failed"
  | "reclone-failed"
  | "start-failed"
  /** A container still runs after docker stop. */
  | "stop-failed"
  | "not-streaming"
  | "promote-failed"
  /** A write did not take: a row the server refused, a file that does not read back. */
  | "write-failed"
  | "vip-still-held"
  | "unknown-component"
  | "still-unhealthy"
  /** The action's own deadline passed (the job's timeout is the hard stop behind it). */
  | "timeout"
  /** A PostgreSQL tool or query failed in a way the action has no better name for. */
  | "postgres-failed";

interface ResultCommon {
  readonly node: string;
  /** One sentence: what is so now, and what was done to make it so. */
  readonly detail: string;
  /** Each step's duration, in order. */
  readonly timings: readonly ActionTiming[];
  readonly durationMs: number;
}

/**
 * An action's answer. ok: the postcondition holds ("done": this run made it so; "already": it held
 * before and nothing changed). Not ok: why, what to do, and whatever facts were learnt on the way.
 */
export type ActionResult<F extends object> =
  | (ResultCommon & { readonly ok: true; readonly outcome: "done" | "already" } & F)
  | (ResultCommon & {
      readonly ok: false;
      readonly outcome: "failed";
      readonly reason: FailureReason;
      readonly hint: string;
      /** The tail of the failing tool's output. */
      readonly outputTail?: string;
    } & Partial<F>);

export interface FenceFacts {
  /** The container ran when the fence began (false: it was already down). */
  readonly wasRunning: boolean;
  /** The end of this node's WAL: what it had written when it stopped (null: no data folder). */
  readonly lastLsn: string | null;
  readonly timeline: number | null;
  /** pg_controldata's state after the stop: "shut down" is clean, "in production" a crash. */
  readonly clusterState: string | null;
  /** end-of-wal: read with pg_waldump; checkpoint: only the last checkpoint was readable. */
  readonly lsnSource: "end-of-wal" | "checkpoint" | null;
}

export interface PromoteRequest extends FencedRequest {
  /** The fenced old primary's lastLsn, when known: the result then says how much is lost. */
  readonly oldPrimaryLastLsn?: string;
  /**
   * The old primary was not fenced, only presumed so (its lease ran out): promote only after no
   * primary has streamed to this standby for this long (wal_receiver_timeout). A standby that still
   * streams is never promoted, with or without it.
   */
  readonly upstreamQuietMs?: number;
  /**
   * Before pg_promote: true, commit alone (its peer is gone, waiting for it would hang every
   * write); false, wait for a standby as configured (postgres.durability strict). Unset: as is.
   */
  readonly commitAlone?: boolean;
}

export interface SetDurabilityRequest extends FencedRequest {
  /** true: commit without waiting for a standby; false: wait as the deploy configured. */
  readonly alone: boolean;
}

export interface DurabilityFacts {
  /** synchronous_standby_names in force now ('' when commits wait for no one). */
  readonly synchronousStandbyNames: string;
  readonly role: "primary" | "standby";
}

export interface PromoteFacts {
  /** The timeline the new primary writes on. */
  readonly timeline: number | null;
  readonly currentLsn: string | null;
  /** Before promoting: what the standby had received and replayed. */
  readonly receivedLsn: string | null;
  readonly replayedLsn: string | null;
  /** Received but not yet replayed when the promotion began (pg_promote replays it first). */
  readonly replayLagBytes: number | null;
  /** oldPrimaryLastLsn minus what this standby had received: the writes a failover loses. */
  readonly lossBytes: number | null;
}

export interface RestartRequest extends FencedRequest {
  /** Start the folder even though it holds a primary (no standby.signal): only when no other primary exists. */
  readonly allowPrimary?: boolean;
}

export interface RestartFacts {
  readonly wasRunning: boolean;
  readonly role: "primary" | "standby";
  /** On a standby: the WAL receiver's status and the host it streams from. */
  readonly walReceiver: string | null;
  readonly senderHost: string | null;
}

export interface RejoinRequest extends FencedRequest {
  /** The current primary: its node name and address (checked against the site config). */
  readonly primary: { readonly node: string; readonly address: string };
  /** When pg_rewind fails: wipe this node's folder and clone the primary (an approved step). */
  readonly allowReclone?: boolean;
}

export interface RejoinFacts {
  /** none: it already streamed from the primary, or its WAL needed no rewind. */
  readonly method: "rewind" | "reclone" | "none";
  /** Where this node's history left the primary's (pg_rewind's "servers diverged at"). */
  readonly divergedAt: string | null;
  readonly timeline: number | null;
  readonly walReceiver: string | null;
  readonly senderHost: string | null;
}

export interface KeepalivedStopFacts {
  readonly wasRunning: boolean;
  /** keepalived had left the VIP behind (a kill -9, LAB.md pitfall 6) and the action removed it. */
  readonly vipRemovedByHand: boolean;
}

export interface KeepalivedStartFacts {
  readonly wasRunning: boolean;
  /** The state keepalived's notify script recorded once it started. */
  readonly state: VrrpState | null;
  readonly vipHeld: boolean;
}

export interface SetRoleRequest extends FencedRequest {
  readonly role: PgRole;
}

export interface SetRoleFacts {
  readonly role: PgRole;
  readonly previousRole: PgRole | null;
}

export interface HarborRestartRequest extends FencedRequest {
  /** Containers (harbor-core), compose services (core) or health components (registry); none: every unhealthy one. */
  readonly components?: readonly string[];
}

export interface HarborRestartFacts {
  readonly restarted: readonly string[];
  /** Harbor's health on the node at the end, as a phrase ("healthy (core, database, ...)"). */
  readonly health: string;
  /** Health components still not healthy at the end. */
  readonly failing: readonly string[];
}

export interface BlockWritesFacts {
  /** pg_current_wal_lsn() once writes were blocked: a standby that replayed this has every write. */
  readonly currentLsn: string;
  readonly terminatedSessions: number;
}

export interface AllowWritesFacts {
  readonly role: "primary" | "standby";
}

export interface WaitReplayRequest extends FencedRequest {
  /** The LSN to reach (block-writes' currentLsn). */
  readonly lsn: string;
  /** How long to wait, at most the job's timeout; 30 s by default. */
  readonly timeoutMs?: number;
}

export interface WaitReplayFacts {
  readonly targetLsn: string;
  readonly replayedLsn: string | null;
  /** target minus replayed: 0 once reached. */
  readonly behindBytes: number | null;
}

export type FenceResult = ActionResult<FenceFacts>;
export type PromoteResult = ActionResult<PromoteFacts>;
export type RestartResult = ActionResult<RestartFacts>;
export type RejoinResult = ActionResult<RejoinFacts>;
export type KeepalivedStopResult = ActionResult<KeepalivedStopFacts>;
export type KeepalivedStartResult = ActionResult<KeepalivedStartFacts>;
export type SetRoleResult = ActionResult<SetRoleFacts>;
export type HarborRestartResult = ActionResult<HarborRestartFacts>;
export type BlockWritesResult = ActionResult<BlockWritesFacts>;
export type AllowWritesResult = ActionResult<AllowWritesFacts>;
export type WaitReplayResult = ActionResult<WaitReplayFacts>;
export type SetDurabilityResult = ActionResult<DurabilityFacts>;
