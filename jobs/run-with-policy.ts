import { UnrecoverableError } from "bullmq";
import { HarborHaError } from "../support/errors.ts";
import type { JobPolicy } from "./job-types.ts";

/** How long work may take to stop after its abort signal, before it counts as wedged. */
export const ABANDON_GRACE_MS = 5_000;

export interface RunContext {
  readonly node: string;
  readonly jobId?: string;
  /** Defaults to ABANDON_GRACE_MS. */
  readonly abandonGraceMs?: number;
  /**
   * Called when the work is still running after its timeout and the grace: it ignored its abort
   * signal (a call with no timeout of its own hangs). The caller must make sure it cannot act
   * later, e.g. by ending the process (issue 15: a timed-out job must not go on in the back).
   */
  readonly onWedged?: (error: HarborHaError) => void;
}

/**
 * Runs one job under its policy: aborted at its timeout, and marked unrecoverable when it must
 * not run again (it is not idempotent), so BullMQ never retries an unsafe action blindly. The
 * timeout is reported only once the work has stopped, or once it is known not to stop.
 */
export async function runWithPolicy<T>(
  name: string,
  policy: JobPolicy,
  work: (signal: AbortSignal) => Promise<T>,
  context: RunContext,
): Promise<T> {
  const controller = new AbortController();
  const where = { node: context.node, ...(context.jobId ? { jobId: context.jobId } : {}) };
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const running = work(controller.signal);
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HarborHaError("JOB_TIMEOUT", `${name} did not finish within ${policy.timeoutMs} ms`, {
        action: `run ${name} on ${context.node}`,
        hint: "check the node's agent log; the node may be overloaded or a daemon it calls may hang",
        context: { ...where, timeoutMs: policy.timeoutMs },
      });
      controller.abort(error);
      const grace = new Promise<"wedged">((resolve) => {
        graceTimer = setTimeout(() => resolve("wedged"), context.abandonGraceMs ?? ABANDON_GRACE_MS);
      });
      void Promise.race([settled, grace]).then((outcome) => {
        clearTimeout(graceTimer);
        if (outcome !== "wedged") return reject(error);
        const wedged = new HarborHaError(
          "JOB_WEDGED",
          `${name} did not stop within ${context.abandonGraceMs ?? ABANDON_GRACE_MS} ms of its ${policy.timeoutMs} ms timeout`,
          {
            action: `run ${name} on ${context.node}`,
            hint: "the agent ends itself so that the job cannot act later; its supervisor starts it again",
            context: { ...where, timeoutMs: policy.timeoutMs },
          },
        );
        context.onWedged?.(wedged);
        reject(wedged);
      });
    }, policy.timeoutMs);
  });
  try {
    return await Promise.race([running, timedOut]);
  } catch (error) {
    if (policy.idempotent) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new UnrecoverableError(`${name} failed and is not safe to retry: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}
