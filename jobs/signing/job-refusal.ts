import type { Redis } from "ioredis";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { RefusalReason } from "./job-signature.ts";

/** The stream the bot turns into alerts; agents may only append to it (Redis ACL). */
export function securityEventsKey(site: string): string {
  return `harbor-ha:${site}:security-events`;
}

const SECURITY_EVENTS_MAX = 10_000;

export interface JobRefusal {
  /** Who refused it: a node name, or "controller". */
  readonly consumer: string;
  readonly queue: string;
  readonly job: string;
  readonly jobId: string;
  readonly reason: RefusalReason;
  readonly detail: string;
}

export interface RefusalReporter {
  report(refusal: JobRefusal): Promise<void>;
}

/**
 * A refused job is logged and raised as one security event, which the bot both posts to the alert
 * channel and records in the audit log (bot/alerts/security-alerts.ts). Agents only append to
 * that stream: their Redis user may not touch the audit log, so a node's stolen secrets file
 * cannot trim or rewrite it. When Redis is down the job stays refused and the log keeps the record.
 */
export function refusalReporter(redis: Redis, site: string, actor: string, logger: Logger): RefusalReporter {
  return {
    async report(refusal) {
      logger.error(
        { event: "job.refused", ...refusal },
        `forged or malformed job refused on ${refusal.consumer}: ${refusal.reason}`,
      );
      try {
        await redis.xadd(
          securityEventsKey(site),
          "MAXLEN",
          "~",
          SECURITY_EVENTS_MAX,
          "*",
          "kind",
          "job.refused",
          "actor",
          actor,
          ...Object.entries(refusal).flat(),
        );
      } catch (error) {
        logger.warn(
          { event: "job.refused.unrecorded", err: errorMessage(error) },
          "the refusal could not be written to Redis",
        );
      }
    },
  };
}
