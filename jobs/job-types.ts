import type { PostgresRoleObservation } from "../probes/postgres.ts";
import type { DeployStepRequest, StepOutcome } from "./deploy/step-contract.ts";
import type {
  AllowWritesResult,
  BlockWritesResult,
  FencedRequest,
  FenceResult,
  HarborRestartRequest,
  HarborRestartResult,
  KeepalivedStartResult,
  KeepalivedStopRequest,
  KeepalivedStopResult,
  PromoteRequest,
  PromoteResult,
  RejoinRequest,
  RejoinResult,
  RestartRequest,
  RestartResult,
  SetDurabilityRequest,
  SetDurabilityResult,
  SetRoleRequest,
  SetRoleResult,
  WaitReplayRequest,
  WaitReplayResult,
} from "./remediation/contract.ts";

/**
 * Every job an agent can run, typed in this one place: its payload, its result, its timeout and
 * whether it may be retried. A job that changes a node retries only when running it twice is
 * harmless (idempotent); anything else fails fast and a person or the controller decides.
 */

export interface PingRequest {
  /** When the sender queued the job (ms since the epoch), so the agent can log the queue delay. */
  readonly sentAt: number;
}

export interface PingResult {
  readonly node: string;
  readonly hostname: string;
  /** The node's Docker engine version, or null when its daemon did not answer. */
  readonly dockerVersion: string | null;
  readonly dockerError?: string;
  /** Seconds since the host booted. */
  readonly hostUptimeSeconds: number;
  /** Seconds since this agent started. */
  readonly agentUptimeSeconds: number;
  readonly agentPid: number;
}

export interface JobSpecs {
  ping: { request: PingRequest; result: PingResult };
  /** Which role this node's PostgreSQL plays (read-only). */
  "postgres.role": { request: Record<string, never>; result: PostgresRoleObservation };
  /** One deploy step on this node, checked or applied; a failure is an outcome, not a throw. */
  "deploy.step": { request: DeployStepRequest; result: StepOutcome };
  // Remediation (jobs/remediation/contract.ts): each carries the controller lease's fencing token.
  /** Stop this node's PostgreSQL so it stays down, and report the end of its WAL. */
  "postgres.fence": { request: FencedRequest; result: FenceResult };
  /** Promote this node's standby; already primary is success. */
  "postgres.promote": { request: PromoteRequest; result: PromoteResult };
  /** Start this node's stopped PostgreSQL as it is (a standby that died). */
  "postgres.restart": { request: RestartRequest; result: RestartResult };
  /** Turn an old primary into a standby of the current primary (pg_rewind, or an approved re-clone). */
  "postgres.rejoin": { request: RejoinRequest; result: RejoinResult };
  /** Refuse new writes on the primary and end client sessions (a planned switchover). */
  "postgres.block-writes": { request: FencedRequest; result: BlockWritesResult };
  "postgres.allow-writes": { request: FencedRequest; result: AllowWritesResult };
  /** Wait until this standby has replayed up to an LSN. */
  "postgres.wait-replay": { request: WaitReplayRequest; result: WaitReplayResult };
  /** Whether this node's commits wait for a standby (postgres.durability, jobs/controller/durability.ts). */
  "postgres.set-durability": { request: SetDurabilityRequest; result: SetDurabilityResult };
  /** Stop keepalived gracefully (priority 0: the VIP moves at once); no VIP left here. */
  "keepalived.stop": { request: KeepalivedStopRequest; result: KeepalivedStopResult };
  "keepalived.start": { request: FencedRequest; result: KeepalivedStartResult };
  /** Write the PostgreSQL role into keepalived's role file, so the VIP follows the primary. */
  "keepalived.set-role": { request: SetRoleRequest; result: SetRoleResult };
  /** Restart named (or every unhealthy) Harbor component on this node. */
  "harbor.restart": { request: HarborRestartRequest; result: HarborRestartResult };
}

export type JobName = keyof JobSpecs;
export type JobRequest<N extends JobName> = JobSpecs[N]["request"];
export type JobResult<N extends JobName> = JobSpecs[N]["result"];

export interface JobPolicy {
  /** The agent abandons the job after this long and reports it failed. */
  readonly timeoutMs: number;
  /** Safe to run twice: only idempotent jobs are retried, and only these are handed back on shutdown. */
  readonly idempotent: boolean;
  /** Runs in all, counting the first; 1 for anything not idempotent. */
  readonly attempts: number;
}

export const JOB_POLICIES: { readonly [N in JobName]: JobPolicy } = {
  ping: { timeoutMs: 5_000, idempotent: true, attempts: 2 },
  "postgres.role": { timeoutMs: 5_000, idempotent: true, attempts: 1 },
  // Every step checks before it acts, so running one twice is harmless; but a failed step is for
  // the operator to read and re-run, not for a blind retry (a pg_basebackup can take minutes).
  "deploy.step": { timeoutMs: 300_000, idempotent: true, attempts: 1 },
  // Remediation actions are all idempotent (a second run says "already"). Fencing and keepalived's
  // stop and role file are retried once after an unexpected error: they must happen, and cheaply
  // can. The rest fail fast for the controller to decide; each has a deadline inside its timeout
  // and reports it as a result (reason "timeout"), so the timeout here is the hard stop behind it.
  "postgres.fence": { timeoutMs: 45_000, idempotent: true, attempts: 2 },
  "postgres.promote": { timeoutMs: 60_000, idempotent: true, attempts: 1 },
  "postgres.restart": { timeoutMs: 90_000, idempotent: true, attempts: 1 },
  // A re-clone copies the whole database with pg_basebackup.
  "postgres.rejoin": { timeoutMs: 300_000, idempotent: true, attempts: 1 },
  "postgres.block-writes": { timeoutMs: 15_000, idempotent: true, attempts: 1 },
  "postgres.allow-writes": { timeoutMs: 15_000, idempotent: true, attempts: 2 },
  "postgres.wait-replay": { timeoutMs: 125_000, idempotent: true, attempts: 1 },
  "postgres.set-durability": { timeoutMs: 15_000, idempotent: true, attempts: 2 },
  "keepalived.stop": { timeoutMs: 20_000, idempotent: true, attempts: 2 },
  "keepalived.start": { timeoutMs: 30_000, idempotent: true, attempts: 1 },
  "keepalived.set-role": { timeoutMs: 5_000, idempotent: true, attempts: 2 },
  "harbor.restart": { timeoutMs: 120_000, idempotent: true, attempts: 1 },
};

/** The jobs that change a node on the controller's behalf: each runs only under the current lease token. */
export const REMEDIATION_JOB_NAMES = [
  "postgres.fence",
  "postgres.promote",
  "postgres.restart",
  "postgres.rejoin",
  "postgres.block-writes",
  "postgres.allow-writes",
  "postgres.wait-replay",
  "postgres.set-durability",
  "keepalived.stop",
  "keepalived.start",
  "keepalived.set-role",
  "harbor.restart",
] as const satisfies readonly JobName[];

export type RemediationJobName = (typeof REMEDIATION_JOB_NAMES)[number];

export const JOB_NAMES = Object.keys(JOB_POLICIES) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_POLICIES, name);
}
