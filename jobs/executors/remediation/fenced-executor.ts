import { setTimeout as sleep } from "node:timers/promises";
import { UnrecoverableError } from "bullmq";
import type { JobRequest, JobResult, RemediationJobName } from "../../job-types.ts";
import { judgeFencingToken } from "../../remediation/fencing-token.ts";
import type { AgentContext } from "../agent-context.ts";
import { PostgresStepFailure } from "../deploy/postgres-failure.ts";
import type { Executor } from "../executor.ts";
import { ActionFailure, ActionRun } from "./action-run.ts";

/** The body of a remediation action, run only once its fencing token checked out. */
export type RemediationAction<N extends RemediationJobName> = (
  context: AgentContext,
  request: JobRequest<N>,
  signal: AbortSignal,
  run: ActionRun,
) => Promise<JobResult<N>>;

/** The lease is one GET on a Redis that just handed over the job: slow means something is wrong. */
const LEASE_READ_TIMEOUT_MS = 3_000;

async function readLease(context: AgentContext, signal: AbortSignal): Promise<string | null> {
  const deadline = new AbortController();
  const timeout = sleep(LEASE_READ_TIMEOUT_MS, undefined, { signal: deadline.signal }).then(() => {
    throw new Error(`the controller lease could not be read within ${LEASE_READ_TIMEOUT_MS} ms`);
  });
  try {
    signal.throwIfAborted();
    return await Promise.race([context.controllerLease.read(), timeout]);
  } finally {
    deadline.abort();
    timeout.catch(() => {});
  }
}

function asFailure(error: unknown): ActionFailure | undefined {
  if (error instanceof ActionFailure) return error;
  if (error instanceof PostgresStepFailure) {
    return new ActionFailure("postgres-failed", error.message, error.hint, error.outputTail);
  }
  return undefined;
}

/**
 * The one place where remediation meets the controller lease: before anything else, the agent
 * reads the lease and refuses a job whose fencing token is not the current one (unrecoverable:
 * no retry), so an action from a deposed controller never runs. Then the action runs; an
 * expected failure it throws (ActionFailure, or a shared PostgreSQL helper's) becomes a result
 * with its reason and the timings so far. Anything else is a bug or an outage and is thrown.
 */
export function fencedAction<N extends RemediationJobName>(
  name: N,
  action: RemediationAction<N>,
): Executor<N> {
  return async (context, request, signal) => {
    const log = context.logger.child({ action: name });
    const verdict = judgeFencingToken(
      context.site.site,
      name,
      request.fencingToken,
      await readLease(context, signal),
    );
    if (!verdict.ok) {
      log.warn({ event: "remediation.refused", fencingToken: request.fencingToken }, verdict.message);
      throw new UnrecoverableError(verdict.message);
    }
    const run = new ActionRun(context.node.name);
    let result: JobResult<N>;
    try {
      result = await action(context, request, signal, run);
    } catch (error) {
      const failure = asFailure(error);
      if (!failure) throw error;
      // Every remediation result is an ActionResult<F>, whose failure carries Partial<F>: none fits.
      result = run.failed(failure) as JobResult<N>;
    }
    log.info(
      {
        event: "remediation.result",
        ok: result.ok,
        outcome: result.outcome,
        ...(result.ok ? {} : { reason: result.reason }),
        durationMs: result.durationMs,
        controller: verdict.holder,
      },
      result.detail,
    );
    return result;
  };
}
