/**
 * A real agent process (the CLI) observing its node and publishing to a real redis-server of the
 * test's own. There is no Docker here: the node's socket does not exist, which the docker reading
 * must say; Harbor is a small HTTP server answering its health JSON; Harbor's Redis is the test's.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { type NodeObservation, observationChannel, observationKey } from "../../probes/observation.ts";
import { type LoopbackSite, loopbackSite } from "../support/loopback-site.ts";
import { type Background, startCli } from "../support/processes.ts";
import { freePort, startTestRedis, type TestRedis } from "../support/redis-server.ts";

const SITE = "obstest";
const NODE01 = "127.77.0.11";
const INTERVAL_MS = 200;
const secrets = {
  HARBOR_HA_PG_PASSWORD: "pg-secret",
  HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
  HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
};

/** Follows the observation channel on a connection of its own. */
async function followObservations(url: string) {
  const subscriber = new Redis(url, { maxRetriesPerRequest: null });
  subscriber.on("error", () => {});
  const seen: NodeObservation[] = [];
  subscriber.on("message", (_channel, message: string) => seen.push(JSON.parse(message) as NodeObservation));
  await subscriber.subscribe(observationChannel(SITE));
  return {
    seen,
    async until(predicate: (observation: NodeObservation) => boolean, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = seen.find(predicate);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.fail(`no matching observation within ${timeoutMs} ms; saw ${seen.length}`);
    },
    close: () => subscriber.disconnect(),
  };
}

/** A stand-in for Harbor's health endpoint on node01's address. */
async function startHarborHealth(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== "/api/v2.0/health") return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        status: "healthy",
        components: ["core", "database", "redis", "registry"].map((name) => ({ name, status: "healthy" })),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, NODE01, resolve));
  return server;
}

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split("\n")
    .find(
      (candidate) =>
        candidate.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("an agent's observations through a real Redis", () => {
  let redis: TestRedis;
  let reader: Redis;
  let dir: string;
  let site: LoopbackSite;
  let harbor: Server;
  let agent: Background;
  let metricsUrl: string;
  let follower: Awaited<ReturnType<typeof followObservations>>;

  before(async () => {
    redis = await startTestRedis();
    reader = new Redis(redis.url, { maxRetriesPerRequest: null });
    reader.on("error", () => {});
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-observations-"));
    site = await loopbackSite({
      site: SITE,
      redisUrl: redis.url,
      dir,
      harborRedis: { host: "127.0.0.1", port: Number(new URL(redis.url).port) },
      changes: [[["policy", "probeIntervalMs"], INTERVAL_MS]],
    });
    const config = join(dir, "site.yaml");
    writeFileSync(config, site.yaml);
    harbor = await startHarborHealth(site.harborPort);
    follower = await followObservations(redis.url);
    const metricsPort = await freePort();
    // The agent runs in the root namespace: node01's address here is a loopback one and the
    // default metrics address (node address, agent.metricsPort) is not ours to take.
    agent = startCli(
      ["agent", "--node", "node01", "--config", config, "--metrics-listen", `127.0.0.1:${metricsPort}`],
      secrets,
    );
    await agent.waitFor(/"event":"agent.ready"/);
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  });

  after(async () => {
    await agent?.stop("SIGKILL");
    follower?.close();
    reader?.disconnect();
    await new Promise<void>((resolve) => (harbor ? harbor.close(() => resolve()) : resolve()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("observations arrive on the channel with a seq that grows by one, starting with the start observation", async () => {
    await follower.until((observation) => observation.seq >= 4);
    const ours = follower.seen.filter((observation) => observation.agentPid === agent.child.pid);
    assert.deepEqual(
      ours.slice(0, 4).map((observation) => [observation.seq, observation.trigger]),
      [
        [1, "start"],
        [2, "interval"],
        [3, "interval"],
        [4, "interval"],
      ],
    );
    const gaps = ours
      .slice(1, 4)
      .map((observation, index) => observation.observedAt - (ours[index]?.observedAt ?? 0));
    assert.ok(
      gaps.every((gap) => gap >= INTERVAL_MS - 20),
      `rounds never come faster than every ${INTERVAL_MS} ms: ${gaps}`,
    );
  });

  test("the latest observation is at its key, with a TTL of at least 10 s and at most 10 s", async () => {
    const latest = follower.seen.at(-1);
    assert.ok(latest);
    const stored = JSON.parse(
      (await reader.get(observationKey(SITE, "node01"))) ?? "null",
    ) as NodeObservation;
    assert.equal(stored.node, "node01");
    assert.equal(stored.site, SITE);
    assert.ok(stored.seq >= latest.seq, `the key holds seq ${stored.seq}, the channel had ${latest.seq}`);
    const ttl = await reader.pttl(observationKey(SITE, "node01"));
    assert.ok(ttl > 9_000 && ttl <= 10_000, `PTTL ${ttl}`);
  });

  test("each probe's reading says what this node has: no Docker (naming its socket), no PostgreSQL, storage, Redis, Harbor", async () => {
    const observation = await follower.until((candidate) => candidate.seq >= 2);
    const { docker, postgres, vip, keepalived, storage, redis: harborRedis, harbor: health } = observation;
    assert.equal(docker.ok, false);
    assert.match(
      docker.ok ? "" : docker.error,
      new RegExp(`Docker at ${site.dockerSocket("node01")}: .*ENOENT`),
    );
    assert.equal(postgres.ok, false, "neither PostgreSQL nor Docker answers: the role cannot be told");
    assert.match(
      postgres.ok ? "" : postgres.error,
      new RegExp(`ECONNREFUSED ${NODE01}:${site.pgPort}; Docker: .*ENOENT`),
    );
    assert.equal(keepalived.ok, false);
    assert.deepEqual(vip.ok && [vip.address, vip.interface, vip.holds], ["127.77.0.100", "lo", false]);
    assert.ok(storage.ok, JSON.stringify(storage));
    assert.equal(storage.path, site.storageDir);
    assert.ok(storage.latencyMs >= 0 && storage.latencyMs < 3_000);
    assert.deepEqual(readdirSync(site.storageDir), [], "the canary file is deleted after each probe");
    assert.ok(harborRedis.ok && harborRedis.role === "master", JSON.stringify(harborRedis));
    assert.ok(health.ok && health.healthy, JSON.stringify(health));
    assert.deepEqual(
      health.components.map((component) => component.name),
      ["core", "database", "redis", "registry"],
    );
    for (const reading of [docker, postgres, vip, keepalived, storage, harborRedis, health]) {
      assert.ok(reading.durationMs >= 0 && reading.durationMs < 3_000, `duration ${reading.durationMs}`);
    }
  });

  test("the agent's /metrics has probe durations and failures, observations, the queue depth and its memory", async () => {
    const response = await fetch(metricsUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await response.text();
    const labels = { site: SITE, node: "node01" };
    for (const probe of ["postgres", "vip", "keepalived", "redis", "docker", "harbor", "storage"]) {
      const count = metricValue(text, "harbor_ha_probe_duration_seconds_count", { ...labels, probe });
      assert.ok(count !== undefined && count >= 1, `${probe} timed: ${count}`);
    }
    assert.ok((metricValue(text, "harbor_ha_probe_failures_total", { probe: "docker" }) ?? 0) >= 1);
    assert.equal(metricValue(text, "harbor_ha_probe_failures_total", { probe: "storage" }), 0);
    assert.ok((metricValue(text, "harbor_ha_observations_total", { trigger: "interval" }) ?? 0) >= 3);
    assert.equal(metricValue(text, "harbor_ha_vip_held", labels), 0);
    assert.equal(metricValue(text, "harbor_ha_postgres_role", { role: "unknown" }), 1);
    assert.equal(metricValue(text, "harbor_ha_queue_jobs", { state: "waiting" }), 0);
    assert.ok((metricValue(text, "harbor_ha_last_observation_age_seconds", labels) ?? 99) < 2);
    assert.ok((metricValue(text, "process_resident_memory_bytes", labels) ?? 0) > 0);
    assert.equal((await fetch(metricsUrl.replace("/metrics", "/other"))).status, 404);
  });

  test("a Redis outage does not stop the probing, and the observations resume after the restart", async () => {
    const observations = async () =>
      metricValue(await (await fetch(metricsUrl)).text(), "harbor_ha_observations_total", {
        trigger: "interval",
      }) ?? 0;
    const beforeSeq = follower.seen.at(-1)?.seq ?? 0;
    const beforeCount = await observations();
    let duringCount = 0;
    const outage = redis.restart(1_500);
    // While Redis is down the agent still observes (its own metrics say so).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    duringCount = await observations();
    await outage;
    assert.ok(
      duringCount >= beforeCount + 3,
      `observations went on during the outage: ${beforeCount} -> ${duringCount}`,
    );
    // The old subscriber's connection was cut; a fresh one sees the agent publishing again.
    const fresh = await followObservations(redis.url);
    try {
      const resumed = await fresh.until((observation) => observation.seq > beforeSeq + 5);
      assert.equal(resumed.agentPid, agent.child.pid, "the same agent process, not a restarted one");
      assert.ok(await reader.exists(observationKey(SITE, "node01")), "the key is written again");
    } finally {
      fresh.close();
    }
    const text = await (await fetch(metricsUrl)).text();
    assert.ok((metricValue(text, "harbor_ha_observation_publish_failures_total", { site: SITE }) ?? 0) >= 1);
    assert.match(agent.output(), /"event":"observation.publish_failed"/);
    assert.match(agent.output(), /"event":"observation.publish_resumed"/);
  });

  test("SIGTERM stops the loop and the agent cleanly", async () => {
    assert.equal(await agent.stop("SIGTERM"), 0);
    assert.match(agent.output(), /"event":"observer.stopped"/);
    assert.equal(existsSync(join(site.storageDir, ".harbor-ha-canary-node01")), false);
  });
});
