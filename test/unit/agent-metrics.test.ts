import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AgentMetrics } from "../../jobs/agent-metrics.ts";
import type { NodeObservation, PostgresFacts } from "../../probes/observation.ts";

const NOW = Date.parse("2026-11-30T10:00:00.000Z");
const ok = { ok: true as const, durationMs: 4 };
const failed = (error: string) => ({ ok: false as const, error, durationMs: 1_000 });

function postgres(
  role: PostgresFacts["role"],
  lag: { bytes: number | null; seconds: number | null },
): PostgresFacts {
  return {
    role,
    detail: role,
    timeline: 1,
    currentLsn: null,
    receivedLsn: null,
    replayedLsn: null,
    replayLagBytes: lag.bytes,
    replayLagSeconds: lag.seconds,
    walReceiver: null,
    replication: [],
    synchronousStandbyNames: null,
  };
}

/** node02 as a standby 4 KiB behind, without the VIP. */
function standbyObservation(overrides: Partial<NodeObservation> = {}): NodeObservation {
  return {
    site: "lab",
    node: "node02",
    seq: 7,
    agentPid: 4242,
    observedAt: NOW - 1_500,
    trigger: "interval",
    postgres: { ...ok, ...postgres("standby", { bytes: 4096, seconds: 0.25 }) },
    vip: { ...ok, address: "10.77.0.100", interface: "eth0", holds: false },
    keepalived: { ...ok, running: true, state: "BACKUP", since: null, priority: 100 },
    harbor: { ...ok, healthy: true, components: [] },
    redis: { ...ok, role: "master" },
    storage: { ...ok, path: "/shared", latencyMs: 2 },
    docker: { ...ok, version: "20.10.24", containers: [] },
    ...overrides,
  };
}

async function value(
  metrics: AgentMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = await metric.get();
  return values.find((entry) =>
    Object.entries(labels).every(([key, wanted]) => String(entry.labels[key]) === wanted),
  )?.value;
}

describe("agent metrics from observations", () => {
  test("a standby's observation sets its role, its lag and that it does not hold the VIP", async () => {
    const metrics = new AgentMetrics({ site: "lab", node: "node02", now: () => NOW });
    metrics.recordObservation(standbyObservation());
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "standby" }), 1);
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "primary" }), 0);
    assert.equal(await value(metrics, "harbor_ha_postgres_replay_lag_bytes"), 4096);
    assert.equal(await value(metrics, "harbor_ha_postgres_replay_lag_seconds"), 0.25);
    assert.equal(await value(metrics, "harbor_ha_vip_held"), 0);
    assert.equal(await value(metrics, "harbor_ha_observations_total", { trigger: "interval" }), 1);
    assert.equal(await value(metrics, "harbor_ha_last_observation_age_seconds"), 1.5);
  });

  test("a primary holding the VIP: role primary, VIP held, lag unknown (NaN), not 0", async () => {
    const metrics = new AgentMetrics({ site: "lab", node: "node01", now: () => NOW });
    metrics.recordObservation(standbyObservation());
    metrics.recordObservation(
      standbyObservation({
        postgres: { ...ok, ...postgres("primary", { bytes: null, seconds: null }) },
        vip: { ...ok, address: "10.77.0.100", interface: "eth0", holds: true },
      }),
    );
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "primary" }), 1);
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "standby" }), 0);
    assert.equal(await value(metrics, "harbor_ha_vip_held"), 1);
    assert.ok(Number.isNaN(await value(metrics, "harbor_ha_postgres_replay_lag_bytes")));
  });

  test("failed PostgreSQL and VIP probes read as role unknown and VIP NaN", async () => {
    const metrics = new AgentMetrics({ site: "lab", node: "node02", now: () => NOW });
    metrics.recordObservation(
      standbyObservation({
        postgres: failed("connect ECONNREFUSED; Docker: ENOENT"),
        vip: failed("no interface eth0"),
      }),
    );
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "unknown" }), 1);
    assert.equal(await value(metrics, "harbor_ha_postgres_role", { role: "standby" }), 0);
    assert.ok(Number.isNaN(await value(metrics, "harbor_ha_vip_held")));
  });

  test("each fresh reading is timed per probe; a failed one is counted", async () => {
    const metrics = new AgentMetrics({ site: "lab", node: "node02" });
    metrics.recordReading("postgres", {
      ok: true,
      durationMs: 3,
      ...postgres("standby", { bytes: 0, seconds: 0 }),
    });
    metrics.recordReading("postgres", failed("timeout"));
    metrics.recordReading("docker", failed("ENOENT"));
    assert.equal(await value(metrics, "harbor_ha_probe_failures_total", { probe: "postgres" }), 1);
    assert.equal(await value(metrics, "harbor_ha_probe_failures_total", { probe: "docker" }), 1);
    assert.equal(
      await value(metrics, "harbor_ha_probe_failures_total", { probe: "vip" }),
      0,
      "every probe has a series from the start",
    );
    assert.equal(await value(metrics, "harbor_ha_probe_ok", { probe: "postgres" }), 0);
    assert.equal(
      await value(metrics, "harbor_ha_probe_duration_seconds", { probe: "postgres", le: "0.005" }),
      1,
      "3 ms falls in the 5 ms bucket, the 1 s failure does not",
    );
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /harbor_ha_probe_duration_seconds_count\{site="lab",node="node02",probe="postgres"\} 2/,
    );
  });

  test("the queue's depth is read at scrape time, and is NaN while Redis does not answer", async () => {
    let answer: () => Promise<{ waiting: number; active: number }> = async () => ({ waiting: 3, active: 1 });
    const metrics = new AgentMetrics({ site: "lab", node: "node02", queueDepth: () => answer() });
    assert.equal(await value(metrics, "harbor_ha_queue_jobs", { state: "waiting" }), 3);
    assert.equal(await value(metrics, "harbor_ha_queue_jobs", { state: "active" }), 1);
    answer = () => Promise.reject(new Error("Stream isn't writeable"));
    assert.ok(Number.isNaN(await value(metrics, "harbor_ha_queue_jobs", { state: "waiting" })));
  });

  test("publish failures are counted; before any observation the age is NaN", async () => {
    const metrics = new AgentMetrics({ site: "lab", node: "node02" });
    metrics.recordPublish(true);
    metrics.recordPublish(false);
    assert.equal(await value(metrics, "harbor_ha_observation_publish_failures_total"), 1);
    assert.ok(Number.isNaN(await value(metrics, "harbor_ha_last_observation_age_seconds")));
  });
});
