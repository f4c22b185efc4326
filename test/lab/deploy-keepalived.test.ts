/**
 * The keepalived deploy step on the real lab (root needed): VRRP between two namespaces, the VIP
 * following the PostgreSQL role, and a graceful stop handing it over.
 * Run with: node --import tsx --test test/lab/deploy-keepalived.test.ts
 *
 * The tests share one lab and run in order. The lab is brought up here and always torn down,
 * but a lab this file did not bring up is refused and never touched.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import Docker from "dockerode";
import { loadSiteConfig } from "../../config/load.ts";
import { nodeDataPath } from "../../config/node-paths.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { parseStateLine, type StateRecord } from "../../jobs/deploy/keepalived-notify.ts";
import type { StepMode, StepOutcome } from "../../jobs/deploy/step-contract.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { labPaths } from "../../lab/index.ts";
import { createLogger } from "../../support/logger.ts";
import { labRedisCredentials } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";
import { vipHolders } from "../support/vip.ts";

const _execFileAsync = promisify(execFile);
const logger = createLogger({ component: "lab-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const VIP = "10.77.0.100";
const NODES = ["node01", "node02"] as const;
type NodeName = (typeof NODES)[number];
/** A port nothing else in the lab listens on, for the "who answers on the VIP" listeners. */
const PROBE_PORT = 47_817;

let site: SiteConfig;
let jobs: NodeJobs | undefined;

async function step(node: NodeName, mode: StepMode, primaryNode: NodeName): Promise<StepOutcome> {
  assert.ok(jobs);
  const { result } = await jobs.send(
    node,
    "deploy.step",
    { stepId: "keepalived", mode, primaryNode },
    { waitMs: 90_000 },
  );
  return result;
}

/** Which nodes have the VIP on eth0, seen from outside the agents. */

/** Polls until the holders are exactly `expected`; returns how long it took. */
async function untilHolders(expected: NodeName[], withinMs: number): Promise<number> {
  const started = performance.now();
  let holders = await vipHolders(NODES, VIP);
  while (JSON.stringify(holders) !== JSON.stringify(expected)) {
    if (performance.now() - started > withinMs) {
      assert.deepEqual(holders, expected, `VIP holders after ${withinMs} ms`);
    }
    await sleep(50);
    holders = await vipHolders(NODES, VIP);
  }
  return Math.round(performance.now() - started);
}

async function recordedState(node: NodeName): Promise<StateRecord | undefined> {
  const config = site.nodes.find((candidate) => candidate.name === node);
  assert.ok(config);
  const text = await readFile(join(nodeDataPath(config, "keepalived"), "state"), "utf8").catch(
    () => undefined,
  );
  return parseStateLine(text);
}

function dockerOf(node: NodeName): Docker {
  return new Docker({ socketPath: paths.node(node).dockerSocket });
}

async function containerId(node: NodeName): Promise<string> {
  return (await dockerOf(node).getContainer(keepalivedContainerName(node)).inspect()).Id;
}

/** A listener in each node's namespace that answers with the node's name: whoever holds the VIP answers. */
async function whoAnswersOnVip(): Promise<string> {
  const listeners: ChildProcess[] = [];
  try {
    for (const node of NODES) {
      const script = `require("node:net").createServer((s) => s.end(${JSON.stringify(node)})).listen(${PROBE_PORT}, () => console.log("ready"))`;
      const child = spawn("ip", ["netns", "exec", node, process.execPath, "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      listeners.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`listener in ${node} exited with ${code}`)));
      });
    }
    return await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: VIP, port: PROBE_PORT, timeout: 3_000 });
      let answer = "";
      socket.on("data", (chunk) => {
        answer += chunk;
      });
      socket.on("end", () => resolve(answer));
      socket.on("timeout", () => socket.destroy(new Error(`no answer from ${VIP}:${PROBE_PORT}`)));
      socket.on("error", reject);
    });
  } finally {
    for (const child of listeners) child.kill();
  }
}

function diagnose(t: TestContext, outcome: StepOutcome): void {
  t.diagnostic(`${outcome.status}: ${outcome.detail}`);
  for (const line of outcome.output ?? []) t.diagnostic(`  ${line}`);
  if (outcome.outputTail) t.diagnostic(`  tail: ${outcome.outputTail}`);
}

before(async () => {
  await lab.up();
  site = (await loadSiteConfig(paths.config)).site;
  jobs = new NodeJobs(site, await readSiteKey(site.security.siteKeyFile), await labRedisCredentials(site));
});

after(async () => {
  await jobs?.close();
  await lab.down();
});

test("check on a bare node says what apply would do and changes nothing", async (t) => {
  const outcome = await step("node01", "check", "node01");
  diagnose(t, outcome);
  assert.equal(outcome.status, "would-change");
  assert.match(outcome.detail, /would create keepalived-node01/);
  assert.match(outcome.detail, /set the role file to primary/);
  await assert.rejects(containerId("node01"), "no container was made");
  assert.deepEqual(await vipHolders(NODES, VIP), []);
});

test("apply on the primary's node, then the standby's: only the primary's node holds the VIP", async (t) => {
  const started = performance.now();
  const first = await step("node01", "apply", "node01");
  t.diagnostic(`node01 apply (first VIP claim included) took ${Math.round(performance.now() - started)} ms`);
  diagnose(t, first);
  assert.equal(first.status, "changed");
  assert.ok(first.output?.includes(`VIP ${VIP} held here: yes`));
  assert.ok(first.output?.some((line) => line.startsWith("priority 150 ")));

  const second = await step("node02", "apply", "node01");
  diagnose(t, second);
  assert.equal(second.status, "changed");
  assert.ok(second.output?.includes(`VIP ${VIP} held here: no`));
  assert.ok(second.output?.some((line) => line.startsWith("priority 100 ")));

  assert.deepEqual(await vipHolders(NODES, VIP), ["node01"]);
  assert.equal((await recordedState("node01"))?.state, "MASTER");
  assert.equal((await recordedState("node02"))?.state, "BACKUP");
});

test("a client on the operations host reaches node01 through the VIP", async () => {
  assert.equal(await whoAnswersOnVip(), "node01");
});

test("a second apply changes nothing on either node and restarts nothing", async (t) => {
  const before = [await containerId("node01"), await containerId("node02")];
  for (const node of NODES) {
    const outcome = await step(node, "apply", "node01");
    diagnose(t, outcome);
    assert.equal(outcome.status, "unchanged", `${node}: ${outcome.detail}`);
  }
  assert.deepEqual([await containerId("node01"), await containerId("node02")], before);
  assert.deepEqual(await vipHolders(NODES, VIP), ["node01"]);
});

test("the VIP follows the role to node02 without restarting keepalived", async (t) => {
  const before = [await containerId("node01"), await containerId("node02")];
  const checked = await step("node01", "check", "node02");
  assert.equal(checked.status, "would-change");
  assert.equal(checked.detail, "would set the role file to standby", "a role change alone restarts nothing");

  // The new primary's node first, as the plan orders it: node01 still advertises the
  // primary's priority, so the VIP cannot move yet and the step says it is pending.
  const raised = await step("node02", "apply", "node02");
  diagnose(t, raised);
  assert.equal(raised.status, "changed");
  assert.match(raised.detail, /moves here when the keepalived step runs on that node/);

  const started = performance.now();
  const lowered = await step("node01", "apply", "node02");
  diagnose(t, lowered);
  assert.equal(lowered.status, "changed");
  const movedMs = await untilHolders(["node02"], 10_000);
  t.diagnostic(`VIP on node02 only, ${Math.round(performance.now() - started)} ms after node01's step began`);
  t.diagnostic(`(${movedMs} ms after the step returned)`);

  assert.equal((await recordedState("node01"))?.state, "BACKUP");
  assert.equal((await recordedState("node02"))?.state, "MASTER");
  assert.deepEqual([await containerId("node01"), await containerId("node02")], before);
  assert.equal(await whoAnswersOnVip(), "node02");
});

test("a graceful stop of the holder's keepalived hands the VIP to node01 (priority 0 advert)", async (t) => {
  const started = performance.now();
  await dockerOf("node02").getContainer(keepalivedContainerName("node02")).stop({ t: 10 });
  const stoppedMs = Math.round(performance.now() - started);
  const movedMs = await untilHolders(["node01"], 5_000);
  t.diagnostic(`docker stop took ${stoppedMs} ms; VIP on node01 only ${movedMs} ms later`);
  assert.equal((await recordedState("node02"))?.state, "STOP");
  assert.equal((await recordedState("node01"))?.state, "MASTER");
  assert.equal(await whoAnswersOnVip(), "node01");
});

test("apply re-creates the stopped keepalived and the VIP returns to the primary's node", async (t) => {
  const check = await step("node02", "check", "node02");
  assert.match(check.detail, /would re-create keepalived-node02 \(it stopped, exit code 0\)/);
  const outcome = await step("node02", "apply", "node02");
  diagnose(t, outcome);
  assert.equal(outcome.status, "changed");
  assert.ok(outcome.output?.includes(`VIP ${VIP} held here: yes`));
  assert.deepEqual(await vipHolders(NODES, VIP), ["node02"]);
  const standby = await step("node01", "apply", "node02");
  assert.equal(standby.status, "unchanged", standby.detail);
});
