/**
 * The agents' observations on the real lab: after a deploy, what each node's probes see (node01
 * primary with the VIP, node02 a streaming standby with its lag, keepalived MASTER/BACKUP, Harbor
 * healthy, storage writable), the agents' /metrics, and a `docker kill` of the standby's
 * PostgreSQL seen at once through the Docker event stream.
 * Run with: node --import tsx --test test/lab/observations.test.ts   (root; no lab may be up)
 *
 * Assertions are on what is observed, never on how fast: durations and memory are reported as
 * test diagnostics.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import Docker from "dockerode";
import type { Redis } from "ioredis";
import { ADDRESS, VIP } from "../../bench/lab-facts.ts";
import { COMPONENT_LABEL } from "../../jobs/adapters/containers.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import type { NodeObservation } from "../../probes/observation.ts";
import { observationChannel, observationKey } from "../../probes/observation.ts";
import { PROBE_NAMES } from "../../probes/reading.ts";
import { createLogger } from "../../support/logger.ts";
import { openLabRedis } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";
import { runCli } from "../support/processes.ts";

const execFileAsync = promisify(execFile);
const logger = createLogger({
  component: "observations-lab-test",
  level: "warn",
  destination: process.stderr,
});
const lab = ownLab(logger);
const paths = labPaths();
const SITE = "lab";
const DEPLOY_TIMEOUT_MS = 600_000;
/** Generous: a deploy's last steps (Harbor on each node) settle a little after it returns. */
const SETTLE_MS = 60_000;

let subscriber: Redis | undefined;
let reader: Redis | undefined;
const seen: NodeObservation[] = [];

async function until(
  what: string,
  predicate: (observation: NodeObservation) => boolean,
  timeoutMs = SETTLE_MS,
  from = 0,
): Promise<NodeObservation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = seen.slice(from).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) {
      const last = seen.at(-1);
      assert.fail(`no observation where ${what} within ${timeoutMs} ms; the last: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A process's user and system CPU time so far, in seconds (/proc/PID/stat, clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const { stdout } = await execFileAsync("getconf", ["CLK_TCK"]);
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / Number(stdout.trim());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

before(async () => {
  await lab.up();
  subscriber = await openLabRedis();
  subscriber.on("message", (_channel, message: string) => seen.push(JSON.parse(message) as NodeObservation));
  await subscriber.subscribe(observationChannel(SITE));
  reader = await openLabRedis();
});

after(async () => {
  subscriber?.disconnect();
  reader?.disconnect();
  await lab.down();
});

test("the agents observe from the start, before anything is deployed: no PostgreSQL, no VIP", async () => {
  for (const node of ["node01", "node02"] as const) {
    const observation = await until(`${node} reports`, (candidate) => candidate.node === node);
    assert.ok(observation.docker.ok, `${node}'s Docker answers: ${JSON.stringify(observation.docker)}`);
    assert.ok(
      observation.postgres.ok && observation.postgres.role === "absent",
      JSON.stringify(observation.postgres),
    );
    assert.ok(observation.vip.ok && !observation.vip.holds);
  }
});

test("after a deploy: node01 is the primary holding the VIP, node02 a streaming standby with its lag", async () => {
  const env = await readEnvFile(paths.env);
  const deployed = await runCli(["--config", paths.config, "deploy"], env, DEPLOY_TIMEOUT_MS);
  assert.equal(deployed.code, 0, `${deployed.stdout}\n${deployed.stderr}`);
  const afterDeploy = seen.length;

  const primary = await until(
    "node01 is the primary with the VIP, keepalived MASTER, Harbor healthy",
    (o) =>
      o.node === "node01" &&
      o.postgres.ok &&
      o.postgres.role === "primary" &&
      o.vip.ok &&
      o.vip.holds &&
      o.keepalived.ok &&
      o.keepalived.running &&
      o.keepalived.state === "MASTER" &&
      o.harbor.ok &&
      o.harbor.healthy,
    SETTLE_MS,
    afterDeploy,
  );
  const standby = await until(
    "node02 is a streaming standby, keepalived BACKUP, Harbor healthy",
    (o) =>
      o.node === "node02" &&
      o.postgres.ok &&
      o.postgres.role === "standby" &&
      o.postgres.walReceiver?.status === "streaming" &&
      o.vip.ok &&
      !o.vip.holds &&
      o.keepalived.ok &&
      o.keepalived.running &&
      o.keepalived.state === "BACKUP" &&
      o.harbor.ok &&
      o.harbor.healthy,
    SETTLE_MS,
    afterDeploy,
  );

  assert.ok(primary.postgres.ok && standby.postgres.ok);
  assert.match(primary.postgres.currentLsn ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.equal(primary.postgres.timeline, 1);
  assert.deepEqual(
    primary.postgres.replication.map((connection) => [connection.clientAddr, connection.state]),
    [[ADDRESS.node02, "streaming"]],
  );
  assert.equal(typeof primary.postgres.replication[0]?.replayLagBytes, "number");
  assert.equal(standby.postgres.walReceiver?.senderHost, ADDRESS.node01);
  assert.equal(typeof standby.postgres.replayLagBytes, "number", "the standby's lag in bytes is known");
  assert.equal(typeof standby.postgres.replayLagSeconds, "number", "and in seconds");
  assert.match(standby.postgres.receivedLsn ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.equal(standby.postgres.timeline, 1);
  assert.equal(primary.vip.ok && primary.vip.address, VIP);
  for (const observation of [primary, standby]) {
    assert.ok(observation.storage.ok, `${observation.node} storage: ${JSON.stringify(observation.storage)}`);
    assert.equal(observation.storage.path, paths.sharedDir);
    assert.ok(observation.redis.ok && observation.redis.role === "master", JSON.stringify(observation.redis));
    assert.ok(observation.docker.ok);
    assert.deepEqual(
      [...new Set(observation.docker.containers.map((container) => container.component))].filter(
        (component) => ["postgres", "keepalived"].includes(component),
      ),
      ["keepalived", "postgres"],
    );
    assert.ok(observation.keepalived.ok && observation.keepalived.priority !== null);
  }
  assert.ok(primary.keepalived.ok && standby.keepalived.ok);
  assert.ok(
    (primary.keepalived.priority ?? 0) > (standby.keepalived.priority ?? 0),
    "the primary's node advertises the higher priority",
  );

  const stored = JSON.parse((await reader?.get(observationKey(SITE, "node02"))) ?? "null") as NodeObservation;
  assert.equal(stored?.node, "node02");
});

test("each agent's /metrics says the same: roles, VIP, lag, probe timings, its queue", async (t) => {
  const scrape = async (node: keyof typeof ADDRESS) => {
    const response = await fetch(`http://${ADDRESS[node]}:9464/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(response.status, 200);
    return response.text();
  };
  const [node01, node02] = [await scrape("node01"), await scrape("node02")];
  assert.match(node01, /^harbor_ha_postgres_role\{role="primary",site="lab",node="node01"\} 1$/m);
  assert.match(node01, /^harbor_ha_vip_held\{site="lab",node="node01"\} 1$/m);
  assert.match(node02, /^harbor_ha_postgres_role\{role="standby",site="lab",node="node02"\} 1$/m);
  assert.match(node02, /^harbor_ha_vip_held\{site="lab",node="node02"\} 0$/m);
  assert.match(node02, /^harbor_ha_postgres_replay_lag_bytes\{site="lab",node="node02"\} \d+$/m);
  assert.match(node02, /^harbor_ha_queue_jobs\{state="waiting",site="lab",node="node02"\} \d+$/m);
  assert.match(
    node02,
    /^harbor_ha_probe_duration_seconds_count\{site="lab",node="node02",probe="postgres"\} \d+$/m,
  );

  // Measured over a quiet 10 s, reported rather than asserted (DESIGN §7: < 80 MB, < 2 % of a
  // core): each probe's durations, and each agent's CPU time and resident memory as ps sees it.
  const pids = ["node01", "node02"].map((node) => seen.findLast((o) => o.node === node)?.agentPid ?? 0);
  const windowStart = seen.length;
  const cpuBefore = await Promise.all(pids.map(cpuSeconds));
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const cpuAfter = await Promise.all(pids.map(cpuSeconds));
  const window = seen.slice(windowStart);
  for (const probe of PROBE_NAMES) {
    const durations = window.map((observation) => observation[probe].durationMs);
    t.diagnostic(
      `${probe}: median ${median(durations).toFixed(1)} ms, max ${Math.max(...durations).toFixed(1)} ms over ${durations.length} observations`,
    );
  }
  for (const [index, pid] of pids.entries()) {
    assert.ok(pid > 0);
    const { stdout } = await execFileAsync("ps", ["-o", "rss=", "-p", String(pid)]);
    const cpu = (((cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0)) / 10) * 100;
    t.diagnostic(
      `agent node0${index + 1} (pid ${pid}): RSS ${(Number(stdout.trim()) / 1024).toFixed(1)} MiB, CPU ${cpu.toFixed(2)} % of a core`,
    );
  }
});

test("a docker kill of the standby's PostgreSQL is observed at once through Docker's events: stopped", async (t) => {
  const docker = new Docker({ socketPath: paths.node("node02").dockerSocket });
  const [container] = await docker.listContainers({ filters: { label: [`${COMPONENT_LABEL}=postgres`] } });
  assert.ok(container, "node02 runs its postgres container");
  const from = seen.length;
  const killedAt = Date.now();
  await docker.getContainer(container.Id).kill();
  const observed = await until(
    "node02's docker-event observation says PostgreSQL stopped",
    (o) =>
      o.node === "node02" && o.trigger === "docker-event" && o.postgres.ok && o.postgres.role === "stopped",
    30_000,
    from,
  );
  // Docker sends "kill" then "die"; the round either one wakes may be the first to see it stopped.
  assert.match(observed.triggerDetail ?? "", /pg-node02 (die \(exit \d+\)|kill \(signal \d+\))/);
  assert.ok(observed.postgres.ok);
  assert.match(observed.postgres.detail, /exited/);
  t.diagnostic(
    `kill -> docker-event observation published: ${observed.observedAt - killedAt} ms after the kill (node clock)`,
  );
});
