import type Docker from "dockerode";
import type { Redis } from "ioredis";
import { nodeDataPath } from "../config/node-paths.ts";
import type { NodeConfig, SiteConfig } from "../config/schema.ts";
import type { NodeObservation } from "../probes/observation.ts";
import { describeError } from "../probes/reading.ts";
import type { Logger } from "../support/logger.ts";
import { Containers } from "./adapters/containers.ts";
import { keepalivedLayout, roleFileContent } from "./deploy/keepalived-conf.ts";
import { postgresContainerName } from "./deploy/postgres-config.ts";
import { writeAtomically } from "./executors/deploy/keepalived-host.ts";
import {
  primaryLeaseKey,
  SELF_FENCE_STOP_SECONDS,
  selfFenceAfterMs,
  selfFenceVerdict,
  streamingStandbys,
} from "./primary-lease.ts";

export interface PrimaryLeaseKeeperOptions {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  /** The observation publisher's connection: no offline queue, short command timeout. */
  readonly redis: Redis;
  readonly docker: Docker;
  readonly logger: Logger;
}

/**
 * The agent's half of the primary lease (jobs/primary-lease.ts): on each observation that says
 * this node runs the primary, renew the lease; when renewals have failed for half the lease and
 * no standby streams from this primary either, stop this node's PostgreSQL (restart policy no,
 * so nothing brings it back) and lower its keepalived priority, before a standby may be promoted.
 */
export class PrimaryLeaseKeeper {
  private renewedAt: number | undefined;
  private busy = false;
  private fenced = false;
  /** Since when renewals fail while a standby streams: logged once per outage, not per round. */
  private holdingSince: number | undefined;

  constructor(private readonly options: PrimaryLeaseKeeperOptions) {}

  /** Called with each observation; never throws, never overlaps itself. */
  observe(observation: NodeObservation): void {
    if (this.busy) return;
    this.busy = true;
    this.step(observation)
      .catch((error: unknown) =>
        this.options.logger.error(
          { event: "primary.lease.error", err: describeError(error) },
          "primary lease step failed",
        ),
      )
      .finally(() => {
        this.busy = false;
      });
  }

  private async step(observation: NodeObservation): Promise<void> {
    const { site, node, redis, logger } = this.options;
    const postgres = observation.postgres.ok ? observation.postgres : undefined;
    const isPrimary = postgres?.role === "primary";
    const now = performance.now();
    if (!isPrimary) {
      this.renewedAt = undefined;
      this.holdingSince = undefined;
      return;
    }
    this.fenced = false;
    // Becoming primary counts as a renewal: the clock starts then, not at the agent's start.
    this.renewedAt ??= now;
    const leaseMs = site.policy.primaryLeaseMs;
    try {
      await redis.set(
        primaryLeaseKey(site.site, node.name),
        JSON.stringify({ node: node.name, at: Date.now() }),
        "PX",
        leaseMs,
      );
      this.renewedAt = performance.now();
      if (this.holdingSince !== undefined) {
        logger.info(
          { event: "primary.lease.renewed", unrenewedMs: Math.round(this.renewedAt - this.holdingSince) },
          "the primary lease renews in Redis again",
        );
        this.holdingSince = undefined;
      }
      return;
    } catch {
      // Counted below: a failed renewal matters only once it has lasted.
    }
    const sinceRenewedMs = now - this.renewedAt;
    const standbys = postgres ? streamingStandbys(postgres) : [];
    const verdict = selfFenceVerdict({ isPrimary, sinceRenewedMs, leaseMs, streamingStandbys: standbys });
    if (verdict === "hold" && this.holdingSince === undefined) {
      this.holdingSince = this.renewedAt;
      logger.warn(
        { event: "primary.lease.unrenewed", sinceRenewedMs: Math.round(sinceRenewedMs), standbys },
        `cannot renew the primary lease in Redis, but ${standbys.join(", ")} streams from this primary, so it will not be promoted beside it: this primary keeps serving`,
      );
    }
    if (verdict === "fence" && !this.fenced) await this.fenceSelf(sinceRenewedMs);
  }

  private async fenceSelf(sinceRenewedMs: number): Promise<void> {
    const { node, docker, logger, site } = this.options;
    const containers = new Containers(docker);
    const name = postgresContainerName(node.name);
    logger.error(
      {
        event: "primary.self-fencing",
        sinceRenewedMs: Math.round(sinceRenewedMs),
        afterMs: selfFenceAfterMs(site.policy.primaryLeaseMs),
      },
      `cut off from Redis for ${Math.round(sinceRenewedMs)} ms and no standby streams from this primary: stopping it before its lease runs out`,
    );
    await containers.disableRestart(name).catch(() => {});
    await containers.stop(name, SELF_FENCE_STOP_SECONDS);
    // keepalived on this side must not win the VIP back with the primary's priority on a heal.
    await writeAtomically(
      keepalivedLayout(nodeDataPath(node, "keepalived")).roleFile,
      roleFileContent("standby"),
      0o644,
    );
    this.fenced = true;
    logger.error(
      { event: "primary.self-fenced", container: name },
      `${name} stopped and kept stopped; the controller rejoins it as a standby once the node is back`,
    );
  }
}
