import type { PostgresRoleObservation } from "../probes/postgres.ts";
import type { DeployStepRequest, StepOutcome } from "./deploy/step-contract.ts";

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
};

export const JOB_NAMES = Object.keys(JOB_POLICIES) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_POLICIES, name);
}
