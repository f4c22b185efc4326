import { type Job, Queue, Worker } from "bullmq";
import type { SiteConfig } from "../config/schema.ts";
import { queuePrefix } from "../jobs/queue-names.ts";
import type { Logger } from "../support/logger.ts";
import { createDurableRedis } from "../support/redis.ts";

/** The controller's own queue: approved work (a deploy) runs here, one job at a time. */
export const CONTROLLER_QUEUE = "controller";

export type ControllerHandlers = Readonly<Record<string, (data: Record<string, string>) => Promise<unknown>>>;

export interface ControllerQueue {
  readonly queue: Queue;
  /** Starts consuming, once the handlers exist. */
  startWorker(handlers: ControllerHandlers): Promise<void>;
  close(): Promise<void>;
}

/**
 * A job id is derived from what it runs (`deploy-<request>`), so adding it twice queues it once;
 * a bot that dies mid-job hands it to the next bot when its lock expires (every job is a
 * resumable, step-by-step checked deploy), and it is never retried otherwise.
 */
export async function openControllerQueue(site: SiteConfig, logger: Logger): Promise<ControllerQueue> {
  const prefix = queuePrefix(site.site);
  const connection = createDurableRedis(site.controlPlane.redisUrl);
  const workerConnection = createDurableRedis(site.controlPlane.redisUrl);
  for (const c of [connection, workerConnection]) c.on("error", () => {});
  const queue = new Queue(CONTROLLER_QUEUE, { connection, prefix });
  await queue.waitUntilReady();
  let worker: Worker | undefined;
  return {
    queue,
    async startWorker(handlers) {
      worker = new Worker(
        CONTROLLER_QUEUE,
        async (job: Job) => {
          const handler = handlers[job.name];
          if (!handler) throw new Error(`no handler for controller job ${job.name}`);
          logger.info(
            { event: "controller.job.started", job: job.name, jobId: job.id },
            `${job.name} started`,
          );
          const result = await handler(job.data as Record<string, string>);
          logger.info({ event: "controller.job.done", job: job.name, jobId: job.id }, `${job.name} done`);
          return result;
        },
        { connection: workerConnection, prefix, concurrency: 1, lockDuration: 30_000, maxStalledCount: 1 },
      );
      worker.on("error", (error) =>
        logger.warn({ event: "controller.worker.error", err: error.message }, "worker error"),
      );
      await worker.waitUntilReady();
    },
    async close() {
      await worker?.close();
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
