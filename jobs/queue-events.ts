import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";

/**
 * Queue events that see every event added from now on. BullMQ's default starts reading at "$"
 * when its first XREAD reaches Redis, which can be after a fast job already finished: a
 * waitUntilFinished that checked the job just before would then wait for an event it missed.
 * Starting from the stream's last entry, read before anything is queued, closes that gap.
 */
export async function queueEventsFromNow(
  queueName: string,
  prefix: string,
  client: Redis,
  eventsConnection: Redis,
): Promise<QueueEvents> {
  const newest = await client.xrevrange(`${prefix}:${queueName}:events`, "+", "-", "COUNT", 1);
  const events = new QueueEvents(queueName, {
    connection: eventsConnection,
    prefix,
    lastEventId: newest[0]?.[0] ?? "0-0",
  });
  await events.waitUntilReady();
  return events;
}
