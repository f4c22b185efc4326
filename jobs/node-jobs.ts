import { randomUUID } from "node:crypto";
import { Queue, type QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import type { SiteKey } from "../config/site-key.ts";
import { openControlPlaneRedis } from "../support/control-plane-redis.ts";
import { HarborHaError } from "../support/errors.ts";
import { NODE_JOB_RETENTION } from "./job-retention.ts";
import { JOB_POLICIES, type JobName, type JobRequest, type JobResult } from "./job-types.ts";
import { queueEventsFromNow } from "./queue-events.ts";
import { nodeQueueName, queuePrefix } from "./queue-names.ts";
import { addSigned } from "./signing/signed-add.ts";

/** Time a job may spend queued behind another on its node, beyond its own runs. */
const QUEUEING_ALLOWANCE_MS = 30_000;

/**
 * How long a signed node job stays valid: as long as its sender waits, and never longer than its
 * runs plus a queueing allowance. A job nobody waits for any more must not run when an agent
 * comes back.
 */
export function nodeJobLifetimeMs(name: JobName, waitMs: number): number {
  const policy = JOB_POLICIES[name];
  return Math.min(waitMs, policy.timeoutMs * policy.attempts + QUEUEING_ALLOWANCE_MS);
}

export interface JobOutcome<N extends JobName> {
  readonly node: string;
  readonly jobId: string;
  readonly result: JobResult<N>;
  /** From queueing the job to seeing its result, in ms. */
  readonly roundTripMs: number;
}

export interface SendOptions {
  /** Derive it from the decision or request, so that sending twice runs once. Random by default. */
  readonly jobId?: string;
  /** How long to wait for the result; the job's own timeout plus queueing time by default. */
  readonly waitMs?: number;
}

/**
 * The control plane's side of the node queues: sends typed jobs to a node's agent and waits for
 * their results. Queues and event listeners are opened once per node and reused.
 */
export class NodeJobs {
  private readonly queues = new Map<string, { queue: Queue; events: QueueEvents; eventsConnection: Redis }>();
  private readonly connection: Redis;

  constructor(
    private readonly site: SiteConfig,
    private readonly siteKey: SiteKey,
    private readonly credentials: RedisCredentials,
  ) {
    this.connection = openControlPlaneRedis(site.controlPlane, credentials);
    this.connection.on("error", () => {});
  }

  private async open(node: string) {
    const known = this.queues.get(node);
    if (known) return known;
    if (!this.site.nodes.some((candidate) => candidate.name === node)) {
      throw new HarborHaError("NODE_UNKNOWN", `no node named ${node} in site ${this.site.site}`, {
        action: "send a job",
        hint: `known nodes: ${this.site.nodes.map((n) => n.name).join(", ")}`,
      });
    }
    const prefix = queuePrefix(this.site.site);
    const queue = new Queue(nodeQueueName(node), { connection: this.connection, prefix });
    // QueueEvents blocks on its connection, so it gets one of its own.
    const eventsConnection = openControlPlaneRedis(this.site.controlPlane, this.credentials);
    eventsConnection.on("error", () => {});
    await queue.waitUntilReady();
    const events = await queueEventsFromNow(nodeQueueName(node), prefix, this.connection, eventsConnection);
    events.on("error", () => {});
    const opened = { queue, events, eventsConnection };
    this.queues.set(node, opened);
    return opened;
  }

  async send<N extends JobName>(
    node: string,
    name: N,
    request: JobRequest<N>,
    options: SendOptions = {},
  ): Promise<JobOutcome<N>> {
    const { queue, events } = await this.open(node);
    const policy = JOB_POLICIES[name];
    const started = performance.now();
    const waitMs = options.waitMs ?? policy.timeoutMs * policy.attempts + 2_000;
    const job = await addSigned(queue, this.siteKey, name, request, {
      jobId: options.jobId ?? `${name}-${node}-${randomUUID()}`,
      lifetimeMs: nodeJobLifetimeMs(name, waitMs),
      attempts: policy.idempotent ? policy.attempts : 1,
      backoff: { type: "fixed", delay: 500 },
      ...NODE_JOB_RETENTION,
    });
    const jobId = job.id ?? "";
    try {
      const result = (await job.waitUntilFinished(events, waitMs)) as JobResult<N>;
      return { node, jobId, result, roundTripMs: performance.now() - started };
    } catch (cause) {
      const message = (cause as Error).message;
      const timedOut = /timed out/i.test(message);
      if (timedOut) {
        // Nobody waits for the answer any more; a stale job must not run when the agent returns.
        if ((await job.getState()) === "waiting") await job.remove().catch(() => {});
      }
      throw new HarborHaError(
        timedOut ? "JOB_TIMEOUT" : "JOB_FAILED",
        timedOut ? `no answer from ${node} within ${waitMs} ms` : `${name} on ${node} failed: ${message}`,
        {
          action: `run ${name} on ${node}`,
          hint: timedOut
            ? `is the agent running? (harbor-ha agent --node ${node}); its log says why it is silent`
            : `read the agent log of ${node} for job ${jobId}`,
          context: { node, jobId, job: name },
          cause,
        },
      );
    }
  }

  async close(): Promise<void> {
    const opened = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(opened.flatMap(({ queue, events }) => [queue.close(), events.close()]));
    // BullMQ leaves connections it was given open: they are ours to close.
    for (const { eventsConnection } of opened) eventsConnection.disconnect();
    this.connection.disconnect();
  }
}
