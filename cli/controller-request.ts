import { Queue } from "bullmq";
import type { ManualJobPayload } from "../bot/controller-jobs.ts";
import { MANUAL_JOB_MAX_LIFETIME_MS } from "../bot/controller-jobs.ts";
import { CONTROLLER_QUEUE, enqueueControllerJob } from "../bot/controller-queue.ts";
import { MANUAL_JOB, type ManualOutcome } from "../bot/manual-operations.ts";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import type { SiteKey } from "../config/site-key.ts";
import { NODE_JOB_RETENTION } from "../jobs/job-retention.ts";
import { queueEventsFromNow } from "../jobs/queue-events.ts";
import { queuePrefix } from "../jobs/queue-names.ts";
import { assertControlPlaneReachable, openControlPlaneRedis } from "../support/control-plane-redis.ts";
import { HarborHaError } from "../support/errors.ts";

/** Hands an operation to the active controller, signed with the site key, and waits for its answer. */
export async function askController(
  site: SiteConfig,
  siteKey: SiteKey,
  credentials: RedisCredentials,
  data: ManualJobPayload,
  waitMs: number,
): Promise<ManualOutcome> {
  await assertControlPlaneReachable(site.controlPlane, credentials);
  const prefix = queuePrefix(site.site);
  const connection = openControlPlaneRedis(site.controlPlane, credentials);
  const eventsConnection = openControlPlaneRedis(site.controlPlane, credentials);
  const queue = new Queue(CONTROLLER_QUEUE, { connection, prefix });
  try {
    const events = await queueEventsFromNow(CONTROLLER_QUEUE, prefix, connection, eventsConnection);
    try {
      // Nobody waits for the answer after waitMs: the job must not run later than that.
      const job = await enqueueControllerJob(queue, siteKey, MANUAL_JOB, data, {
        lifetimeMs: Math.min(waitMs, MANUAL_JOB_MAX_LIFETIME_MS),
        attempts: 1,
        ...NODE_JOB_RETENTION,
      });
      try {
        return (await job.waitUntilFinished(events, waitMs)) as ManualOutcome;
      } catch (cause) {
        if ((await job.getState()) === "waiting") await job.remove().catch(() => {});
        throw new HarborHaError("JOB_FAILED", (cause as Error).message, {
          action: `${data.verb} through the controller`,
          hint: "is `harbor-ha bot` running for this site? Only its controller acts on the cluster",
          cause,
        });
      }
    } finally {
      await events.close();
    }
  } finally {
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
