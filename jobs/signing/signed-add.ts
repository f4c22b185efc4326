import type { Job, JobsOptions, Queue } from "bullmq";
import type { SiteKey } from "../../config/site-key.ts";
import { signJob } from "./job-signature.ts";

export interface SignedAddOptions extends Omit<JobsOptions, "jobId"> {
  /** Always explicit: the signature covers it, so BullMQ must not pick one after signing. */
  readonly jobId: string;
  /** How long the job may wait and run: after this nobody waits for it, and it must not run. */
  readonly lifetimeMs: number;
  readonly now?: number;
}

/** The one way anything is put on a queue: signed with the site key, under an id chosen first. */
export function addSigned<P>(
  queue: Queue,
  key: SiteKey,
  name: string,
  payload: P,
  options: SignedAddOptions,
): Promise<Job> {
  const { lifetimeMs, now, ...jobOptions } = options;
  const issuedAt = now ?? Date.now();
  const data = signJob(key, { queue: queue.qualifiedName, name, jobId: options.jobId }, payload, {
    issuedAt,
    expiresAt: issuedAt + lifetimeMs,
  });
  return queue.add(name, data, jobOptions);
}
