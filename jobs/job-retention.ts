import type { JobsOptions } from "bullmq";

/**
 * How long BullMQ keeps a finished job (its payload and its result) in the control-plane Redis.
 * Payloads carry no secret any more (a deploy step names Harbor's sealed secrets by digest), but
 * a kept job is still data an attacker with Redis read access gets, and a queue that keeps
 * thousands of jobs is slow to list. So: keep what an operator reads, and no more.
 */

/**
 * Node jobs and the CLI's manual operations. A completed job is only read by its waiter, which
 * has its result from the queue's event within its own timeout (the longest, a deploy step, 320 s):
 * ten minutes and the last hundred leave room for that and for a look with `redis-cli` right
 * after. A failed job is what an operator opens to see why: a day (the next working day's
 * morning after a night's alert) and the last 500 (a flapping node fails often).
 */
export const NODE_JOB_RETENTION: Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> = {
  removeOnComplete: { age: 10 * 60, count: 100 },
  removeOnFail: { age: 24 * 3_600, count: 500 },
};

/** As long as an approval request is kept (bot/approvals/approval-store.ts KEEP_AFTER_EXPIRY_S). */
const APPROVAL_LIFETIME_S = 7 * 24 * 3_600;

/**
 * The controller queue's approved work (`deploy-<request>`, `remediation-<request>`): the job id
 * is the approval's, and a kept job is what makes a second add of the same approved request a
 * no-op, so it is kept as long as the request itself. Its payload is the request's id alone.
 */
export const APPROVED_JOB_RETENTION: Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> = {
  removeOnComplete: { age: APPROVAL_LIFETIME_S, count: 1_000 },
  removeOnFail: { age: APPROVAL_LIFETIME_S, count: 500 },
};
