import { join } from "node:path";
import { type Job, Worker } from "bullmq";
import Docker from "dockerode";
import { nodeDataPath } from "../config/node-paths.ts";
import { agentRole, type RedisCredentials } from "../config/redis-credentials.ts";
import type { NodeConfig, SiteConfig } from "../config/schema.ts";
import type { SiteSecrets } from "../config/secrets.ts";
import { ReloadableSiteKey, type SiteKey } from "../config/site-key.ts";
import { describeControlPlane, openControlPlaneRedis } from "../support/control-plane-redis.ts";
import type { Logger } from "../support/logger.ts";
import type { ListenAddress } from "../support/metrics-server.ts";
import { type AgentObservation, startAgentObservation } from "./agent-observation.ts";
import { controllerLeaseKey } from "./controller-lease-key.ts";
import { harborSecretsKey } from "./deploy/harbor-secrets-store.ts";
import type { AgentContext } from "./executors/agent-context.ts";
import { EXECUTORS, type Executor } from "./executors/index.ts";
import { jobSchemas } from "./job-schemas.ts";
import { isJobName, JOB_POLICIES, type JobName } from "./job-types.ts";
import { nodeQueueName, queuePrefix } from "./queue-names.ts";
import { runWithPolicy } from "./run-with-policy.ts";
import { checkJob, JobRefusedError } from "./signing/job-check.ts";
import { refusalReporter } from "./signing/job-refusal.ts";
import { FileSeenJobs } from "./signing/seen-jobs.ts";
import { UpstreamWatch } from "./upstream-watch.ts";

export interface AgentOptions {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  readonly secrets: SiteSecrets;
  /** Every job must carry its signature: the agent runs nothing else. */
  readonly siteKey: SiteKey;
  /** This node's agent's own login to the control-plane Redis (its ACL user opens only its keys). */
  readonly redis: RedisCredentials;
  /** Tagged with `component: "agent"` and the node by the caller. */
  readonly logger: Logger;
  /** Where GET /metrics listens; undefined: nowhere. */
  readonly metricsListen?: ListenAddress | undefined;
  /**
   * A job went on past its timeout and its abort (jobs/run-with-policy.ts). The entry point
   * ends the process, the only sure way to stop it acting later; the supervisor restarts it.
   */
  readonly onWedged?: (error: Error) => void;
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

/** The ids of the signed jobs this node started, on its own disk (jobs/signing/seen-jobs.ts). */
export function seenJobsFile(node: NodeConfig): string {
  return join(nodeDataPath(node, "agent"), "seen-jobs.jsonl");
}

/**
 * The agent of one node: consumes the node's queue, one job at a time, and runs each job's
 * executor under its policy, but only a job signed with the site key, unexpired, never seen
 * before and valid by its schema. Jobs live in Redis; the ids it ran live on the node's disk.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { site, node } = options;
  // The caller's logger already carries component and node (pino would repeat a key set twice).
  const { logger } = options;
  const connection = openControlPlaneRedis(site.controlPlane, options.redis);
  connection.on("error", (error) =>
    logger.warn({ event: "redis.error", err: error.message }, "control-plane Redis error"),
  );
  const leaseKey = controllerLeaseKey(site.site);
  const startedAt = Date.now();
  const upstream = new UpstreamWatch(startedAt);
  const siteKey = new ReloadableSiteKey(site.security.siteKeyFile, options.siteKey);
  const context: AgentContext = {
    site,
    node,
    docker: new Docker({ socketPath: node.dockerSocket }),
    secrets: options.secrets,
    logger,
    startedAt,
    controllerLease: { read: () => connection.get(leaseKey) },
    upstream,
    get siteKey() {
      return siteKey.current;
    },
    harborSecrets: { read: () => connection.get(harborSecretsKey(site.site)) },
  };

  const schemas = jobSchemas(site.nodes.map((candidate) => candidate.name));
  const seen = await FileSeenJobs.open(seenJobsFile(node), Date.now());
  const refusals = refusalReporter(connection, site.site, agentRole(node.name), logger);
  const queueName = `${queuePrefix(site.site)}:${nodeQueueName(node.name)}`;

  const processJob = async (job: Job) => {
    const jobLog = logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
    const known = isJobName(job.name) ? job.name : undefined;
    const checked = await checkJob(job, {
      key: siteKey.current,
      reloadKey: async () => {
        const newer = await siteKey.reload();
        if (newer) {
          logger.warn(
            { event: "site-key.reloaded", fingerprint: newer.fingerprint, file: siteKey.file },
            `the site key file holds a new key (${newer.fingerprint}): jobs are checked with it from now on`,
          );
        }
        return newer;
      },
      queue: queueName,
      seen,
      now: Date.now(),
      schema: known ? schemas[known] : undefined,
      maxStarts: known ? JOB_POLICIES[known].attempts + 1 : 0,
    });
    if (!checked.ok) {
      const detail =
        checked.reason === "unknown job"
          ? `${checked.detail}: this agent runs ${Object.keys(EXECUTORS).join(", ")}`
          : checked.detail;
      await refusals.report({
        consumer: node.name,
        queue: queueName,
        job: job.name,
        jobId: job.id ?? "",
        reason: checked.reason,
        detail,
      });
      throw new JobRefusedError(checked.reason, detail);
    }
    const name = known as JobName;
    const started = performance.now();
    jobLog.info({ event: "job.started", queuedMs: Date.now() - job.timestamp }, `${name} started`);
    try {
      const result = await runWithPolicy(
        name,
        JOB_POLICIES[name],
        (signal) => execute(name, context, checked.payload, signal),
        {
          node: node.name,
          ...(job.id ? { jobId: job.id } : {}),
          onWedged: (error) => {
            jobLog.fatal({ event: "job.wedged", err: error.message }, `${name} ignored its timeout`);
            options.onWedged?.(error);
          },
        },
      );
      jobLog.info({ event: "job.done", durationMs: Math.round(performance.now() - started) }, `${name} done`);
      if (job.id) await seen.succeeded(job.id);
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
    redis: options.redis,
    pgPassword: options.secrets.pgPassword,
    docker: context.docker,
    metricsListen: options.metricsListen,
    metricsBearerToken: options.metricsBearerToken,
    upstream,
    logger,
  });
  logger.info(
    {
      event: "agent.ready",
      queue: nodeQueueName(node.name),
      redis: describeControlPlane(site.controlPlane, options.redis),
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
