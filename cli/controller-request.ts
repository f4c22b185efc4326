import { Queue } from "bullmq";
import { CONTROLLER_QUEUE } from "../bot/controller-queue.ts";
import { MANUAL_JOB, type ManualOutcome } from "../bot/manual-operations.ts";
import type { SiteConfig } from "../config/schema.ts";
import { queueEventsFromNow } from "../jobs/queue-events.ts";
import { queuePrefix } from "../jobs/queue-names.ts";
import { HarborHaError } from "../support/errors.ts";
import { assertRedisReachable, createDurableRedis } from "../support/redis.ts";

/** Hands an operation to the active controller and waits for its answer. */
export async function askController(
  site: SiteConfig,
  data: Record<string, string>,
  waitMs: number,
): Promise<ManualOutcome> {
  await assertRedisReachable(site.controlPlane.redisUrl);
  const prefix = queuePrefix(site.site);
  const connection = createDurableRedis(site.controlPlane.redisUrl);
  const eventsConnection = createDurableRedis(site.controlPlane.redisUrl);
  const queue = new Queue(CONTROLLER_QUEUE, { connection, prefix });
  try {
    const events = await queueEventsFromNow(CONTROLLER_QUEUE, prefix, connection, eventsConnection);
    try {
      const job = await queue.add(MANUAL_JOB, data, { attempts: 1, removeOnComplete: { age: 3_600 } });
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
