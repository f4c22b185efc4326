import type Docker from "dockerode";
import { nodeDataPath } from "../config/node-paths.ts";
import type { NodeConfig, SiteConfig } from "../config/schema.ts";
import { keepalivedLayout } from "../jobs/deploy/keepalived-conf.ts";
import { DockerProbe } from "./docker.ts";
import { probeHarbor } from "./harbor.ts";
import { HarborRedisProbe } from "./harbor-redis.ts";
import { probeKeepalived } from "./keepalived.ts";
import type {
  DockerFacts,
  HarborFacts,
  KeepalivedFacts,
  PostgresFacts,
  ProbeReading,
  RedisFacts,
  StorageFacts,
  VipFacts,
} from "./observation.ts";
import { PostgresProbe } from "./postgres.ts";
import { StorageProbe } from "./storage.ts";
import { probeVip } from "./vip.ts";

/**
 * Each probe's time budget. The fast ones run every round, so their budget bounds a round even
 * when a service hangs; Harbor's health check goes through the database and Redis itself, and
 * NFS can be slow, so the slow ones get more (they run beside the rounds, see round-plan.ts).
 */
export interface ProbeTimeouts {
  readonly fastMs: number;
  readonly slowMs: number;
}

export const DEFAULT_PROBE_TIMEOUTS: ProbeTimeouts = { fastMs: 1_000, slowMs: 3_000 };

/** What a round tells the probes that read container lists. */
export interface ProbeRound {
  /** Confirm listed-running containers with inspect (see RoundPlan.afterDockerEvent). */
  readonly afterDockerEvent: boolean;
}

/** Every probe of one node, ready to read; the only place that knows how each one is built. */
export interface NodeProbes {
  postgres(): Promise<ProbeReading<PostgresFacts>>;
  vip(): Promise<ProbeReading<VipFacts>>;
  keepalived(round: ProbeRound): Promise<ProbeReading<KeepalivedFacts>>;
  redis(): Promise<ProbeReading<RedisFacts>>;
  docker(round: ProbeRound): Promise<ProbeReading<DockerFacts>>;
  harbor(): Promise<ProbeReading<HarborFacts>>;
  storage(): Promise<ProbeReading<StorageFacts>>;
  /** Closes the connections the probes keep (PostgreSQL, Harbor's Redis). */
  close(): Promise<void>;
}

export interface NodeProbesOptions {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  readonly pgPassword: string;
  /**
   * The node's Docker. (A client with a keep-alive http.Agent, to save a connection per request,
   * was tried in the lab: the agent's CPU time went up, not down.)
   */
  readonly docker: Docker;
  readonly timeouts?: ProbeTimeouts;
}

export function createNodeProbes(options: NodeProbesOptions): NodeProbes {
  const { site, node, docker } = options;
  const { fastMs, slowMs } = options.timeouts ?? DEFAULT_PROBE_TIMEOUTS;
  const postgres = new PostgresProbe(
    { host: node.address, port: site.postgres.port, password: options.pgPassword },
    docker,
    fastMs,
  );
  const redis = new HarborRedisProbe(site.harborRedis, fastMs);
  const dockerProbe = new DockerProbe(docker, node.dockerSocket, fastMs);
  const storage = new StorageProbe(site.harbor.storage, node.name, slowMs);
  const stateFile = keepalivedLayout(nodeDataPath(node, "keepalived")).stateFile;
  return {
    postgres: () => postgres.read(),
    vip: () => probeVip(site.vip, fastMs),
    keepalived: (round) => probeKeepalived(docker, stateFile, fastMs, round.afterDockerEvent),
    redis: () => redis.read(),
    docker: (round) => dockerProbe.read(round.afterDockerEvent),
    harbor: () => probeHarbor(node.address, site.harbor.httpPort, slowMs),
    storage: () => storage.read(),
    async close() {
      redis.close();
      await postgres.close();
    },
  };
}
