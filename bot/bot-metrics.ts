import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ClusterSnapshot } from "../jobs/controller/snapshot.ts";
import { readingOf, roleOf } from "../jobs/controller/snapshot.ts";

const ROLES = ["primary", "standby", "stopped", "absent", "unknown"] as const;

export interface QueueDepths {
  readonly node: string;
  readonly waiting: number;
  readonly active: number;
  readonly failed: number;
}

/**
 * The bot's Prometheus metrics. Snapshot-derived gauges are filled at scrape time from the
 * snapshot and queue depths passed in, so a scrape always shows the state as of that moment.
 */
export class BotMetrics {
  readonly registry = new Registry();
  readonly commands = new Counter({
    name: "harbor_ha_slack_commands_total",
    help: "Slash commands received, by verb and outcome",
    labelNames: ["verb", "outcome"] as const,
    registers: [this.registry],
  });
  readonly ackSeconds = new Histogram({
    name: "harbor_ha_slack_ack_seconds",
    help: "From a slash command's arrival at the handler to its ack",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3],
    registers: [this.registry],
  });
  readonly statusSeconds = new Histogram({
    name: "harbor_ha_slack_status_seconds",
    help: "From a /harbor status command to its card being posted",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5],
    registers: [this.registry],
  });
  readonly refusedRequests = new Counter({
    name: "harbor_ha_slack_requests_refused_total",
    help: "Requests refused: bad signature, stale timestamp, oversized body",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: "harbor_ha_slack_duplicates_total",
    help: "Slack retries and replays that were acked and not run again",
    registers: [this.registry],
  });

  constructor(snapshot: () => ClusterSnapshot, queueDepths: () => Promise<readonly QueueDepths[]>) {
    const registers = [this.registry];
    new Gauge({
      name: "harbor_ha_observation_age_seconds",
      help: "Age of each node's latest observation (absent: never observed)",
      labelNames: ["node"] as const,
      registers,
      collect() {
        this.reset();
        for (const view of snapshot().nodes)
          if (view.ageMs !== null) this.set({ node: view.node }, view.ageMs / 1000);
      },
    });
    new Gauge({
      name: "harbor_ha_vip_holders",
      help: "How many nodes hold the VIP (1 is right)",
      registers,
      collect() {
        this.set(snapshot().vip.holders.length);
      },
    });
    new Gauge({
      name: "harbor_ha_vip_held",
      help: "1 where a node holds the VIP",
      labelNames: ["node"] as const,
      registers,
      collect() {
        this.reset();
        const current = snapshot();
        for (const view of current.nodes)
          this.set({ node: view.node }, current.vip.holders.includes(view.node) ? 1 : 0);
      },
    });
    new Gauge({
      name: "harbor_ha_postgres_role",
      help: "1 for each node's current PostgreSQL role",
      labelNames: ["node", "role"] as const,
      registers,
      collect() {
        this.reset();
        for (const view of snapshot().nodes) {
          const role = roleOf(view);
          for (const candidate of ROLES)
            this.set({ node: view.node, role: candidate }, candidate === role ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "harbor_ha_postgres_replay_lag_bytes",
      help: "Received minus replayed WAL on each standby",
      labelNames: ["node"] as const,
      registers,
      collect() {
        this.reset();
        for (const view of snapshot().nodes) {
          const lag = readingOf(view.observation?.postgres)?.replayLagBytes;
          if (lag !== null && lag !== undefined) this.set({ node: view.node }, lag);
        }
      },
    });
    new Gauge({
      name: "harbor_ha_open_problems",
      help: "Findings of the current snapshot, by severity",
      labelNames: ["severity"] as const,
      registers,
      collect() {
        const findings = snapshot().findings;
        for (const severity of ["critical", "warning"] as const) {
          this.set({ severity }, findings.filter((finding) => finding.severity === severity).length);
        }
      },
    });
    new Gauge({
      name: "harbor_ha_queue_jobs",
      help: "Jobs in each node's action queue, by state",
      labelNames: ["node", "state"] as const,
      registers,
      async collect() {
        this.reset();
        for (const depth of await queueDepths()) {
          for (const state of ["waiting", "active", "failed"] as const)
            this.set({ node: depth.node, state }, depth[state]);
        }
      },
    });
  }
}
