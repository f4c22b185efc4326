import { type Job, UnrecoverableError, Worker } from "bullmq";
import Docker from "dockerode";
import type { NodeConfig, SiteConfig } from "../config/schema.ts";
import type { SiteSecrets } from "../config/secrets.ts";
import type { Logger } from "../support/logger.ts";
import type { ListenAddress } from "../support/metrics-server.ts";
import { createDurableRedis, redactRedisUrl } from "../support/redis.ts";
import { type AgentObservation, startAgentObservation } from "./agent-observation.ts";
import { controllerLeaseKey } from "./controller-lease-key.ts";
import type { AgentContext } from "./executors/agent-context.ts";
import { EXECUTORS, type Executor } from "./executors/index.ts";
import { isJobName, JOB_POLICIES, type JobName } from "./job-types.ts";
import { nodeQueueName, queuePrefix } from "./queue-names.ts";
import { runWithPolicy } from "./run-with-policy.ts";

export interface AgentOptions {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  readonly secrets: SiteSecrets;
  /** Tagged with `component: "agent"` and the node by the caller. */
  readonly logger: Logger;
  /** Where GET /metrics listens; undefined: nowhere. */
  readonly metricsListen?: ListenAddress | undefined;
  /** When set, GET /metrics needs `Authorization: Bearer` with it. */
  readonly metricsBearerToken?: string | undefined;
}

export interface RunningAgent {
  readonly worker: Worker;
  /** The observation loop, its publishing and the metrics endpoint. */
  readonly observation: AgentObservation;
  /** Stops taking jobs, lets the current one finish (every job has a timeout), then disconnects. */
  close(): Promise<void>;
  /** Stops at once; a job in flight is handed back to the queue when its lock expires. */
  abandon(): Promise<void>;
}

/** The longest a graceful stop can wait: the slowest job's timeout, plus a margin to report it. */
export const GRACEFUL_STOP_MS = Math.max(...Object.values(JOB_POLICIES).map((p) => p.timeoutMs)) + 1_000;

function execute<N extends JobName>(name: N, context: AgentContext, request: unknown, signal: AbortSignal) {
  const executor = EXECUTORS[name] as Executor<N>;
  return executor(context, request as Parameters<Executor<N>>[1], signal);
}

/**
 * The agent of one node: consumes the node's queue, one job at a time, and runs each job's
 * executor under its policy. It holds no state that a restart would lose: jobs live in Redis.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { site, node } = options;
  // The caller's logger already carries component and node (pino would repeat a key set twice).
  const { logger } = options;
  const connection = createDurableRedis(site.controlPlane.redisUrl);
  connection.on("error", (error) =>
    logger.warn({ event: "redis.error", err: error.message }, "control-plane Redis error"),
  );
  const leaseKey = controllerLeaseKey(site.site);
  const context: AgentContext = {
    site,
    node,
    docker: new Docker({ socketPath: node.dockerSocket }),
    secrets: options.secrets,
    logger,
    startedAt: Date.now(),
    controllerLease: { read: () => connection.get(leaseKey) },
  };

  const processJob = async (job: Job) => {
    const jobLog = logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
    if (!isJobName(job.name)) {
      jobLog.error({ event: "job.unknown" }, "unknown job name: refused");
      throw new UnrecoverableError(
        `unknown job ${job.name}: this agent runs ${Object.keys(EXECUTORS).join(", ")}`,
      );
    }
    const name = job.name;
    const started = performance.now();
    jobLog.info({ event: "job.started", queuedMs: Date.now() - job.timestamp }, `${name} started`);
    try {
      const result = await runWithPolicy(
        name,
        JOB_POLICIES[name],
        (signal) => execute(name, context, job.data, signal),
        {
          node: node.name,
          ...(job.id ? { jobId: job.id } : {}),
        },
      );
      jobLog.info({ event: "job.done", durationMs: Math.round(performance.now() - started) }, `${name} done`);
      return result;
    } catch (error) {
      jobLog.error(
        {
          event: "job.failed",
          durationMs: Math.round(performance.now() - started),
          err: (error as Error).message,
        },
        `${name} failed`,
      );
      throw error;
    }
  };

  const worker = new Worker(nodeQueueName(node.name), processJob, {
    connection,
    prefix: queuePrefix(site.site),
    concurrency: 1,
    // A killed agent's job goes back to the queue after its lock expires; a short lock keeps
    // that hand-back quick, and one stall is enough to tell a dead agent.
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 1,
  });
  worker.on("error", (error) =>
    logger.warn({ event: "worker.error", err: error.message }, "queue worker error"),
  );
  await worker.waitUntilReady();
  const observation = await startAgentObservation({
    site,
    node,
    pgPassword: options.secrets.pgPassword,
    docker: context.docker,
    metricsListen: options.metricsListen,
    metricsBearerToken: options.metricsBearerToken,
    logger,
  });
  logger.info(
    {
      event: "agent.ready",
      queue: nodeQueueName(node.name),
      redis: redactRedisUrl(site.controlPlane.redisUrl),
      ...(observation.metricsUrl ? { metrics: observation.metricsUrl } : {}),
    },
    `agent for ${node.name} is consuming its queue`,
  );

  const disconnect = () => {
    connection.disconnect();
  };
  return {
    worker,
    observation,
    async close() {
      await Promise.all([worker.close(), observation.stop()]);
      disconnect();
      logger.info({ event: "agent.stopped" }, "agent stopped");
    },
    async abandon() {
      await Promise.all([worker.close(true), observation.stop()]);
      disconnect();
      logger.warn({ event: "agent.abandoned" }, "agent stopped at once; an unfinished job is handed back");
    },
  };
}
