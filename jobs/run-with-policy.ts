import { UnrecoverableError } from "bullmq";
import { HarborHaError } from "../support/errors.ts";
import type { JobPolicy } from "./job-types.ts";

/**
 * Runs one job under its policy: aborted at its timeout, and marked unrecoverable when it must
 * not run again (it is not idempotent), so BullMQ never retries an unsafe action blindly.
 */
export async function runWithPolicy<T>(
  name: string,
  policy: JobPolicy,
  work: (signal: AbortSignal) => Promise<T>,
  context: { node: string; jobId?: string },
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HarborHaError("JOB_TIMEOUT", `${name} did not finish within ${policy.timeoutMs} ms`, {
        action: `run ${name} on ${context.node}`,
        hint: "check the node's agent log; the node may be overloaded or a daemon it calls may hang",
        context: { ...context, timeoutMs: policy.timeoutMs },
      });
      controller.abort(error);
      reject(error);
    }, policy.timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), timedOut]);
  } catch (error) {
    if (policy.idempotent) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new UnrecoverableError(`${name} failed and is not safe to retry: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}
