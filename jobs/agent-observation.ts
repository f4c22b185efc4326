import { Queue } from "bullmq";
import type Docker from "dockerode";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { NodeConfig, SiteConfig } from "../config/schema.ts";
import { watchDockerEvents } from "../probes/docker-events.ts";
import { createNodeProbes } from "../probes/node-probes.ts";
import {
  createPublisherRedis,
  ObservationPublisher,
  observationTtlMs,
} from "../probes/observation-publisher.ts";
import { slowProbeIntervalMs, startObserver } from "../probes/observer.ts";
import { describeError } from "../probes/reading.ts";
import { describeControlPlane } from "../support/control-plane-redis.ts";
import type { Logger } from "../support/logger.ts";
import { formatListenAddress, type ListenAddress, startMetricsServer } from "../support/metrics-server.ts";
import { AgentMetrics } from "./agent-metrics.ts";
import { PrimaryLeaseKeeper } from "./primary-lease-keeper.ts";
import { nodeQueueName, queuePrefix } from "./queue-names.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

export interface AgentObservationOptions {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  /** The agent's own login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  readonly pgPassword: string;
  readonly docker: Docker;
  /** undefined: no metrics endpoint. */
  readonly metricsListen: ListenAddress | undefined;
  readonly metricsBearerToken?: string | undefined;
  /** Told of each observation's PostgreSQL facts: when the standby last streamed. */
  readonly upstream?: UpstreamWatch;
  readonly logger: Logger;
}

export interface AgentObservation {
  readonly metrics: AgentMetrics;
  /** The metrics endpoint's URL, when it listens. */
  readonly metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * The agent's eyes: the observation loop over the node's probes, the Docker events that cut its
 * wait short, the publishing of each observation to the control-plane Redis, the primary's lease
 * (renewed, or the node fenced by itself when cut off), and the metrics endpoint. None of it can stop the agent: Redis, Docker or a busy metrics port failing is
 * logged and observed, never thrown.
 */
export async function startAgentObservation(options: AgentObservationOptions): Promise<AgentObservation> {
  const { site, node, docker, logger } = options;
  const intervalMs = site.policy.probeIntervalMs;
  const redis = createPublisherRedis(site.controlPlane, options.redis);
  // ioredis reports every failed reconnect; the publisher logs an outage once, when it begins.
  redis.on("error", () => {});
  const queue = new Queue(nodeQueueName(node.name), { connection: redis, prefix: queuePrefix(site.site) });
  queue.on("error", () => {});
  const metrics = new AgentMetrics({
    site: site.site,
    node: node.name,
    processMetrics: true,
    queueDepth: async () => {
      const counts = await queue.getJobCounts("waiting", "active");
      return { waiting: counts.waiting ?? 0, active: counts.active ?? 0 };
    },
  });
  const publisher = new ObservationPublisher(redis, observationTtlMs(intervalMs), logger, (ok) =>
    metrics.recordPublish(ok),
  );
  const primaryLease = new PrimaryLeaseKeeper({ site, node, redis, docker, logger });
  const observer = startObserver({
    site: site.site,
    node: node.name,
    probes: createNodeProbes({ site, node, pgPassword: options.pgPassword, docker }),
    intervalMs,
    slowIntervalMs: slowProbeIntervalMs(intervalMs),
    onReading: (probe, reading) => metrics.recordReading(probe, reading),
    onObservation: (observation) => {
      metrics.recordObservation(observation);
      publisher.publish(observation);
      if (observation.postgres.ok) options.upstream?.saw(observation.postgres, observation.observedAt);
      primaryLease.observe(observation);
    },
    logger,
  });
  const events = watchDockerEvents({
    docker,
    where: node.dockerSocket,
    onTrigger: (detail) => observer.observeNow(detail),
    logger,
  });

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (options.metricsListen) {
    try {
      metricsServer = await startMetricsServer(
        metrics.registry,
        options.metricsListen,
        options.metricsBearerToken === undefined ? {} : { bearerToken: options.metricsBearerToken },
      );
      logger.info({ event: "metrics.listening", url: metricsServer.url }, `metrics on ${metricsServer.url}`);
    } catch (error) {
      // The agent's work (observing, fencing, failing over) matters more than its metrics.
      logger.error(
        {
          event: "metrics.listen_failed",
          listen: formatListenAddress(options.metricsListen),
          err: describeError(error),
        },
        "cannot serve metrics; the agent runs on without them (see --metrics-listen and agent.metricsPort)",
      );
    }
  }
  logger.info(
    {
      event: "observations.publishing",
      redis: describeControlPlane(site.controlPlane, options.redis),
      ttlMs: observationTtlMs(intervalMs),
    },
    "publishing observations to the control-plane Redis",
  );

  return {
    metrics,
    metricsUrl: metricsServer?.url,
    async stop() {
      events.stop();
      await observer.stop();
      await publisher.flush();
      await metricsServer?.close();
      await queue.close().catch(() => {});
      redis.disconnect();
    },
  };
}
