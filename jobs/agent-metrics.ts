import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { NodeObservation, PostgresRole, ProbeReading } from "../probes/observation.ts";
import { PROBE_NAMES, type ProbeName, withTimeout } from "../probes/reading.ts";

export interface QueueDepth {
  readonly waiting: number;
  readonly active: number;
}

export interface AgentMetricsOptions {
  readonly site: string;
  readonly node: string;
  /** The node queue's depth, asked at each scrape; unknown (NaN) when it does not answer in time. */
  readonly queueDepth?: () => Promise<QueueDepth>;
  /** Node's process metrics (memory, CPU, event loop): off in unit tests, which count series. */
  readonly processMetrics?: boolean;
  readonly now?: () => number;
}

const POSTGRES_ROLES: readonly PostgresRole[] = ["primary", "standby", "stopped", "absent", "unknown"];
const QUEUE_DEPTH_TIMEOUT_MS = 1_000;

/**
 * The agent's Prometheus metrics, fed from its observations (no I/O but the queue depth, which is
 * read at scrape time). Values that are not known (the lag of a primary, the queue while Redis is
 * away) are NaN rather than 0, so that a dashboard or an alert never mistakes them for good news.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly probeDuration: Histogram<"probe">;
  private readonly probeFailures: Counter<"probe">;
  private readonly probeOk: Gauge<"probe">;
  private readonly observations: Counter<"trigger">;
  private readonly publishFailures: Counter;
  private readonly vipHeld: Gauge;
  private readonly postgresRole: Gauge<"role">;
  private readonly replayLagBytes: Gauge;
  private readonly replayLagSeconds: Gauge;
  private lastObservedAt: number | undefined;

  constructor(options: AgentMetricsOptions) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    this.registry.setDefaultLabels({ site: options.site, node: options.node });
    if (options.processMetrics) {
      // A coarse event-loop sampler: the default 10 ms one wakes the agent 100 times a second.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    }
    this.probeDuration = new Histogram({
      name: "harbor_ha_probe_duration_seconds",
      help: "How long each probe took, failed ones included",
      labelNames: ["probe"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.probeFailures = new Counter({
      name: "harbor_ha_probe_failures_total",
      help: "Probe readings that failed (no answer, timeout, unexpected answer)",
      labelNames: ["probe"],
      registers,
    });
    this.probeOk = new Gauge({
      name: "harbor_ha_probe_ok",
      help: "1 when the probe's last reading succeeded, else 0",
      labelNames: ["probe"],
      registers,
    });
    for (const probe of PROBE_NAMES) {
      this.probeFailures.inc({ probe }, 0);
      this.probeOk.set({ probe }, 0);
    }
    this.observations = new Counter({
      name: "harbor_ha_observations_total",
      help: "Observations made, by what triggered them",
      labelNames: ["trigger"],
      registers,
    });
    this.publishFailures = new Counter({
      name: "harbor_ha_observation_publish_failures_total",
      help: "Observations that could not be published to the control-plane Redis",
      registers,
    });
    const lastObservedAt = () => this.lastObservedAt;
    new Gauge({
      name: "harbor_ha_last_observation_age_seconds",
      help: "Seconds since the last observation started; NaN before the first",
      registers,
      collect() {
        const at = lastObservedAt();
        this.set(at === undefined ? Number.NaN : Math.max(0, (now() - at) / 1000));
      },
    });
    this.vipHeld = new Gauge({
      name: "harbor_ha_vip_held",
      help: "1 when this node holds the site's VIP, 0 when not, NaN when the probe failed",
      registers,
    });
    this.vipHeld.set(Number.NaN);
    this.postgresRole = new Gauge({
      name: "harbor_ha_postgres_role",
      help: "1 for the role this node's PostgreSQL plays now, 0 for the others",
      labelNames: ["role"],
      registers,
    });
    this.replayLagBytes = new Gauge({
      name: "harbor_ha_postgres_replay_lag_bytes",
      help: "WAL received but not yet replayed on this standby; NaN when not a standby",
      registers,
    });
    this.replayLagSeconds = new Gauge({
      name: "harbor_ha_postgres_replay_lag_seconds",
      help: "Seconds since the last replayed transaction, 0 when caught up; NaN when not a standby",
      registers,
    });
    this.replayLagBytes.set(Number.NaN);
    this.replayLagSeconds.set(Number.NaN);
    const queueDepth = options.queueDepth;
    if (queueDepth) {
      new Gauge({
        name: "harbor_ha_queue_jobs",
        help: "Jobs in this node's queue by state (waiting, active); NaN when Redis does not answer",
        labelNames: ["state"],
        registers,
        async collect() {
          const depth = await withTimeout(QUEUE_DEPTH_TIMEOUT_MS, "queue depth", () => queueDepth()).catch(
            () => ({ waiting: Number.NaN, active: Number.NaN }),
          );
          this.set({ state: "waiting" }, depth.waiting);
          this.set({ state: "active" }, depth.active);
        },
      });
    }
  }

  /** A fresh reading of one probe: its duration, and whether it failed. */
  recordReading(probe: ProbeName, reading: ProbeReading<object>): void {
    this.probeDuration.observe({ probe }, reading.durationMs / 1000);
    this.probeOk.set({ probe }, reading.ok ? 1 : 0);
    if (!reading.ok) this.probeFailures.inc({ probe });
  }

  recordObservation(observation: NodeObservation): void {
    this.lastObservedAt = observation.observedAt;
    this.observations.inc({ trigger: observation.trigger });
    const { vip, postgres } = observation;
    this.vipHeld.set(vip.ok ? Number(vip.holds) : Number.NaN);
    const role: PostgresRole = postgres.ok ? postgres.role : "unknown";
    for (const candidate of POSTGRES_ROLES)
      this.postgresRole.set({ role: candidate }, candidate === role ? 1 : 0);
    this.replayLagBytes.set(postgres.ok ? (postgres.replayLagBytes ?? Number.NaN) : Number.NaN);
    this.replayLagSeconds.set(postgres.ok ? (postgres.replayLagSeconds ?? Number.NaN) : Number.NaN);
  }

  recordPublish(ok: boolean): void {
    if (!ok) this.publishFailures.inc();
  }
}
