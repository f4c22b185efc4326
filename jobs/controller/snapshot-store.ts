import type { Redis } from "ioredis";
import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { type NodeObservation, observationChannel, observationKey } from "../../probes/observation.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { parseJsonObject } from "../../support/json.ts";
import type { Logger } from "../../support/logger.ts";
import { buildSnapshot, type ClusterSnapshot, type ThroughVipChecks } from "./snapshot.ts";
import { checkThroughVip } from "./through-vip-checks.ts";

export interface SnapshotStoreOptions {
  readonly site: SiteConfig;
  /** The controller's login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  /** The superuser's password, for the canary write through the VIP; without it that check says so. */
  readonly pgPassword: string | undefined;
  readonly logger: Logger;
  /** How long each check through the VIP may take. */
  readonly checkTimeoutMs?: number;
}

/** An observation older than this many probe intervals (and at least 3 s) is stale. */
export function staleAfterMs(probeIntervalMs: number): number {
  return Math.max(6 * probeIntervalMs, 3_000);
}

/**
 * Keeps the latest observation of every node, as the agents publish them, and the latest
 * checks through the VIP; builds the cluster snapshot from them on demand. The only I/O is
 * reading Redis and running the checks; what the snapshot means is decided in snapshot.ts.
 */
export class SnapshotStore {
  private readonly observations = new Map<string, NodeObservation>();
  private readonly listeners = new Set<(observation: NodeObservation) => void>();
  private throughVip: ThroughVipChecks | null = null;
  private checking: Promise<ThroughVipChecks> | undefined;
  private reader: Redis | undefined;
  private subscriber: Redis | undefined;

  constructor(private readonly options: SnapshotStoreOptions) {}

  /** Reads what the agents last published, then follows their channel. */
  async start(): Promise<void> {
    const { site, logger, redis } = this.options;
    this.reader = openControlPlaneRedis(site.controlPlane, redis);
    this.subscriber = openControlPlaneRedis(site.controlPlane, redis);
    for (const connection of [this.reader, this.subscriber]) {
      connection.on("error", (error) =>
        logger.warn({ event: "snapshot.redis.error", err: error.message }, "control-plane Redis error"),
      );
    }
    this.subscriber.on("message", (_channel, text: string) => this.accept(text));
    // After a reconnect the channel is followed again by ioredis; what was published in between
    // is read back from the keys.
    this.subscriber.on("ready", () => void this.reload());
    await this.subscriber.subscribe(observationChannel(site.site));
    await this.reload();
  }

  /** Reads every node's last published observation (the keys expire when an agent goes silent). */
  async reload(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    const keys = this.options.site.nodes.map((node) => observationKey(this.options.site.site, node.name));
    try {
      for (const text of await reader.mget(...keys)) if (text) this.accept(text);
    } catch (error) {
      this.options.logger.warn(
        { event: "snapshot.reload.failed", err: (error as Error).message },
        "reload failed",
      );
    }
  }

  /** Called with every newer observation of any node. */
  onObservation(listener: (observation: NodeObservation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The snapshot from what is known now, without new checks. */
  current(now = Date.now()): ClusterSnapshot {
    const { site } = this.options;
    return buildSnapshot({
      site: site.site,
      vipAddress: site.vip.address,
      nodes: site.nodes,
      observations: this.observations,
      throughVip: this.throughVip,
      now,
      staleAfterMs: staleAfterMs(site.policy.probeIntervalMs),
      maxLagBytes: site.policy.maxLagBytes,
      durability: site.postgres.durability,
    });
  }

  /** Runs the checks through the VIP (one run at a time: concurrent callers share it), then snapshots. */
  async refresh(): Promise<ClusterSnapshot> {
    if (!this.checking) {
      const { site, pgPassword, checkTimeoutMs } = this.options;
      this.checking = checkThroughVip(site, pgPassword, checkTimeoutMs ?? 1_000).finally(() => {
        this.checking = undefined;
      });
    }
    this.throughVip = await this.checking;
    return this.current();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    for (const connection of [this.subscriber, this.reader]) connection?.disconnect();
    this.subscriber = undefined;
    this.reader = undefined;
  }

  private accept(text: string): void {
    const observation = parseObservation(text, this.options.site);
    if (!observation) {
      this.options.logger.warn({ event: "snapshot.observation.rejected" }, "an observation that is not one");
      return;
    }
    const known = this.observations.get(observation.node);
    if (known && known.observedAt > observation.observedAt) return;
    this.observations.set(observation.node, observation);
    for (const listener of this.listeners) listener(observation);
  }
}

/** An observation of one of this site's nodes, or undefined for anything else on the channel. */
export function parseObservation(text: string, site: SiteConfig): NodeObservation | undefined {
  const value = parseJsonObject(text);
  if (!value) return undefined;
  const candidate = value as Partial<NodeObservation>;
  if (candidate.site !== site.site || typeof candidate.observedAt !== "number") return undefined;
  if (!site.nodes.some((node) => node.name === candidate.node)) return undefined;
  const readings = ["postgres", "vip", "keepalived", "harbor", "redis", "storage", "docker"] as const;
  if (!readings.every((name) => typeof candidate[name]?.ok === "boolean")) return undefined;
  return candidate as NodeObservation;
}
