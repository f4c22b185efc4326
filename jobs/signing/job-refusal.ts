import type { Redis } from "ioredis";
import type { SiteKey } from "../../config/site-key.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import { AuditLog, type AuditRetention } from "../audit-log.ts";
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
 * A refused job is written to the audit log and raised as one security event. Either write may
 * fail (Redis down): the job stays refused, and the log keeps the record.
 */
export function refusalReporter(
  redis: Redis,
  site: string,
  siteKey: SiteKey,
  actor: string,
  logger: Logger,
  retention?: AuditRetention,
): RefusalReporter {
  const audit = new AuditLog(redis, site, siteKey, retention);
  return {
    async report(refusal) {
      logger.error(
        { event: "job.refused", ...refusal },
        `forged or malformed job refused on ${refusal.consumer}: ${refusal.reason}`,
      );
      const writes = [
        audit.append({
          actor,
          action: "job.refused",
          outcome: "refused",
          detail: `${refusal.job} ${refusal.jobId}: ${refusal.reason}: ${refusal.detail}`,
          where: refusal.queue,
        }),
        redis.xadd(
          securityEventsKey(site),
          "MAXLEN",
          "~",
          SECURITY_EVENTS_MAX,
          "*",
          "kind",
          "job.refused",
          ...Object.entries(refusal).flat(),
        ),
      ];
      for (const result of await Promise.allSettled(writes)) {
        if (result.status === "rejected") {
          logger.warn(
            { event: "job.refused.unrecorded", err: errorMessage(result.reason) },
            "the refusal could not be written to Redis",
          );
        }
      }
    },
  };
}
