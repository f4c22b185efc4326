import { UnrecoverableError } from "bullmq";
import type { z } from "zod";
import type { SiteKey } from "../../config/site-key.ts";
import { describeSchemaError } from "../job-schemas.ts";
import { type RefusalReason, type Verified, verifyJob } from "./job-signature.ts";
import type { SeenJobs } from "./seen-jobs.ts";

/** A job refused before any effect: unrecoverable, so BullMQ never retries it. */
export class JobRefusedError extends UnrecoverableError {
  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
  ) {
    super(`job refused: ${reason}: ${detail}`);
    this.name = "JobRefusedError";
  }
}

export interface JobToCheck {
  readonly name: string;
  readonly id?: string | undefined;
  readonly data: unknown;
}

export interface JobCheck {
  readonly key: SiteKey;
  /**
   * Called once when the signature does not verify with `key`: a newer key from the key file
   * (after a rotation), or undefined. The job is then checked once more with that key.
   */
  readonly reloadKey?: () => Promise<SiteKey | undefined>;
  /** The queue's qualified name (prefix:name), as the signer signed it. */
  readonly queue: string;
  readonly seen: SeenJobs;
  readonly now: number;
  /** undefined: no job of this name runs here. */
  readonly schema: z.ZodType | undefined;
  /** How often one id may start: its attempts plus one hand-back after a dead consumer. */
  readonly maxStarts: number;
}

/**
 * Everything a consumer checks before a job has any effect, in order: a known name, the
 * signature (with size and envelope), the expiry, the replay memory, then the payload's schema.
 * Returns the validated payload, the only thing an executor ever sees.
 */
export async function checkJob(job: JobToCheck, check: JobCheck): Promise<Verified> {
  if (!check.schema) return { ok: false, reason: "unknown job", detail: `unknown job ${job.name}` };
  if (!job.id) return { ok: false, reason: "not signed", detail: `${job.name} has no job id` };
  const target = { queue: check.queue, name: job.name, jobId: job.id };
  let verified = verifyJob(check.key, target, job.data, check.now);
  if (!verified.ok && verified.reason === "bad signature" && check.reloadKey) {
    const newer = await check.reloadKey();
    if (newer) verified = verifyJob(newer, target, job.data, check.now);
  }
  if (!verified.ok) return verified;
  const claim = await check.seen.claim(job.id, verified.auth.expiresAt, check.maxStarts, check.now);
  if (!claim.ok) return { ok: false, reason: "replayed", detail: claim.detail };
  const parsed = check.schema.safeParse(verified.payload);
  if (!parsed.success) return { ok: false, reason: "malformed", detail: describeSchemaError(parsed.error) };
  return { ok: true, payload: parsed.data, auth: verified.auth };
}
