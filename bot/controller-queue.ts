import { randomUUID } from "node:crypto";
import { type Job, type JobsOptions, Queue, Worker } from "bullmq";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import type { SiteKey } from "../config/site-key.ts";
import { APPROVED_JOB_RETENTION } from "../jobs/job-retention.ts";
import { queuePrefix } from "../jobs/queue-names.ts";
import { checkJob, JobRefusedError } from "../jobs/signing/job-check.ts";
import { refusalReporter } from "../jobs/signing/job-refusal.ts";
import { RedisSeenJobs } from "../jobs/signing/seen-jobs.ts";
import { addSigned } from "../jobs/signing/signed-add.ts";
import { openControlPlaneRedis } from "../support/control-plane-redis.ts";
import type { Logger } from "../support/logger.ts";
import {
  type ControllerHandlers,
  type ControllerJobName,
  type ControllerJobSpecs,
  controllerJobSchemas,
  isControllerJobName,
} from "./controller-jobs.ts";

/** The controller's own queue: approved work (a deploy) runs here, one job at a time. */
export const CONTROLLER_QUEUE = "controller";

export type { ControllerHandlers } from "./controller-jobs.ts";

export interface EnqueueOptions extends Omit<JobsOptions, "jobId"> {
  readonly jobId?: string;
  /** How long the job may wait for the worker: after this it must not run. */
  readonly lifetimeMs: number;
}

/** What puts work on the controller's queue: always signed. */
export interface ControllerQueueSender {
  enqueue<N extends ControllerJobName>(
    name: N,
    payload: ControllerJobSpecs[N],
    options: EnqueueOptions,
  ): Promise<Job>;
}

export interface ControllerQueue extends ControllerQueueSender {
  readonly queue: Queue;
  /** Starts consuming, once the handlers exist. */
  startWorker(handlers: ControllerHandlers): Promise<void>;
  close(): Promise<void>;
}

/** Signs and adds one controller job; the CLI uses it with a queue of its own. */
export function enqueueControllerJob<N extends ControllerJobName>(
  queue: Queue,
  siteKey: SiteKey,
  name: N,
  payload: ControllerJobSpecs[N],
  options: EnqueueOptions,
): Promise<Job> {
  return addSigned(queue, siteKey, name, payload, {
    ...options,
    jobId: options.jobId ?? `${name}-${randomUUID()}`,
  });
}

/**
 * A job id is derived from what it runs (`deploy-<request>`), so adding it twice queues it once;
 * a bot that dies mid-job hands it to the next bot when its lock expires (every job is a
 * resumable, step-by-step checked deploy), and it is never retried otherwise. Every job is
 * checked like an agent's (signature, expiry, replay, schema) before its handler runs.
 */
export async function openControllerQueue(
  site: SiteConfig,
  siteKey: SiteKey,
  credentials: RedisCredentials,
  logger: Logger,
): Promise<ControllerQueue> {
  const prefix = queuePrefix(site.site);
  const connection = openControlPlaneRedis(site.controlPlane, credentials);
  const workerConnection = openControlPlaneRedis(site.controlPlane, credentials);
  for (const c of [connection, workerConnection]) c.on("error", () => {});
  // A job that names its own retention (a manual operation) keeps its own.
  const queue = new Queue(CONTROLLER_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: APPROVED_JOB_RETENTION,
  });
  await queue.waitUntilReady();
  const schemas = controllerJobSchemas(site.nodes.map((node) => node.name));
  const seen = new RedisSeenJobs(connection, `${prefix}:seen-job:${CONTROLLER_QUEUE}:`);
  const refusals = refusalReporter(connection, site.site, "controller", logger);
  let worker: Worker | undefined;

  const consume = async (job: Job, handlers: ControllerHandlers) => {
    const known = isControllerJobName(job.name) ? job.name : undefined;
    const checked = await checkJob(job, {
      key: siteKey,
      queue: queue.qualifiedName,
      seen,
      now: Date.now(),
      schema: known ? schemas[known] : undefined,
      // One run, and one hand-back to the next bot when this one dies under it.
      maxStarts: 2,
    });
    const refused = checked.ok ? undefined : new JobRefusedError(checked.reason, checked.detail);
    const report = (error: JobRefusedError) =>
      refusals.report({
        consumer: "controller",
        queue: queue.qualifiedName,
        job: job.name,
        jobId: job.id ?? "",
        reason: error.reason,
        detail: error.detail,
      });
    if (refused || !known || !checked.ok) {
      const error = refused ?? new JobRefusedError("unknown job", `unknown job ${job.name}`);
      await report(error);
      throw error;
    }
    logger.info({ event: "controller.job.started", job: job.name, jobId: job.id }, `${job.name} started`);
    const handler = handlers[known] as (payload: unknown) => Promise<unknown>;
    try {
      const result = await handler(checked.payload);
      if (job.id) await seen.succeeded(job.id);
      logger.info({ event: "controller.job.done", job: job.name, jobId: job.id }, `${job.name} done`);
      return result;
    } catch (error) {
      // A handler refuses what it finds tampered with (an approval whose seal does not hold).
      if (error instanceof JobRefusedError) await report(error);
      throw error;
    }
  };

  return {
    queue,
    enqueue: (name, payload, options) => enqueueControllerJob(queue, siteKey, name, payload, options),
    async startWorker(handlers) {
      worker = new Worker(CONTROLLER_QUEUE, (job: Job) => consume(job, handlers), {
        connection: workerConnection,
        prefix,
        concurrency: 1,
        lockDuration: 30_000,
        maxStalledCount: 1,
      });
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
