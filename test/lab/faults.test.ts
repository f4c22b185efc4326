/**
 * The faults beyond the runbook's four, on the real lab with the real controller, each injected
 * from outside the product: keepalived stopped gracefully on the VIP holder, PostgreSQL's
 * postmaster frozen with SIGSTOP, keepalived stopped on both nodes (the VIP on no node), a Harbor component
 * killed, the control-plane Redis restarted, the primary's node cut off from the control host
 * alone (no failover, no second primary), the primary's node cut off the network and healed,
 * and the active bot killed with a second one standing by. After each: one VIP holder, the
 * primary, a write through the VIP, the other node streaming. Root needed; the lab always comes
 * down.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { postgresContainerName } from "../../jobs/deploy/postgres-config.ts";
import { REDIS_PROCESS_KEY, readState } from "../../lab/state.ts";
import { ADDRESS, failoverSite, NODES, type NodeName, VIP } from "../support/failover-site.ts";
import { cutFromControlHost, cutNodeLink } from "../support/partitions.ts";
import { runCli } from "../support/processes.ts";
import { vipHolders } from "../support/vip.ts";

const execFileAsync = promisify(execFile);
const site = failoverSite("faults-test");
const { docker, query, settled, resolvedThread, writableThroughVip, until } = site;

before(() => site.start());
after(() => site.stop());

const running = async (node: NodeName, container: string) =>
  (await docker(node).getContainer(container).inspect()).State.Running;

/** The incident threads opened so far whose scenario matches. */
const threads = (scenario: RegExp) =>
  site.emulator
    .messages(site.site.slack.alertChannel)
    .filter((m) => m.thread_ts === undefined && scenario.test(JSON.stringify(m.blocks))).length;

test("S4 by a graceful stop: keepalived stopped on the VIP holder; the peer is promoted, the old node comes back", async (t) => {
  await settled("node01");
  const mark = site.alertMark();
  const stoppedAt = performance.now();
  await docker("node01").getContainer(keepalivedContainerName("node01")).stop();
  await site.primaryIs("node02");
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `keepalived stopped -> writable on node02 in ${(performance.now() - stoppedAt).toFixed(0)} ms`,
  );
  assert.equal(write.server, "node02");
  await settled("node02");
  await resolvedThread(/S4/, [/fence node01/, /promote node02/, /writable through the VIP/], mark);
});

test("PostgreSQL's postmaster frozen with SIGSTOP on the primary: no new connection gets in; it is killed, the standby promoted, and it rejoins", async (t) => {
  await settled("node02");
  const mark = site.alertMark();
  // Only the postmaster: the backends it forked go on answering on their connections (the
  // agent's kept one too), so the fault shows only to a client that connects anew.
  const postmaster = (await docker("node02").getContainer(postgresContainerName("node02")).inspect()).State
    .Pid;
  process.kill(postmaster, "SIGSTOP");
  const frozenAt = performance.now();
  try {
    const write = await writableThroughVip(60_000);
    t.diagnostic(
      `postmaster frozen -> writable on ${write.server} in ${(performance.now() - frozenAt).toFixed(0)} ms`,
    );
    assert.equal(write.server, "node01");
  } finally {
    // Killed by the fence if all went well; otherwise it must not stay frozen for the lab's down.
    try {
      process.kill(postmaster, "SIGCONT");
    } catch {}
  }
  await settled("node01");
  await resolvedThread(/S1\/S3/, [/fence node02/, /promote node01/], mark);
});

test("the VIP on no node (keepalived stopped on both): it starts again on the primary's node first", async (t) => {
  await settled("node01");
  const mark = site.alertMark();
  await Promise.all(NODES.map((node) => docker(node).getContainer(keepalivedContainerName(node)).stop()));
  const stoppedAt = performance.now();
  await until("the VIP back on node01", async () => {
    const holders = await vipHolders(NODES, VIP);
    return holders.length === 1 && holders[0] === "node01" ? true : undefined;
  });
  t.diagnostic(
    `both keepalived stopped -> VIP back on node01 in ${(performance.now() - stoppedAt).toFixed(0)} ms`,
  );
  await resolvedThread(
    /VIP on no node/,
    [/keepalived on node01/, /writable through the VIP|landed on node01/],
    mark,
  );
  await settled("node01");
});

test("Harbor unhealthy: its registry killed on node02 is restarted, and Harbor answers healthy there", async () => {
  await settled("node01");
  const mark = site.alertMark();
  await docker("node02").getContainer("harbor-registry").kill();
  await resolvedThread(/Harbor unhealthy/, [/restart Harbor on node02/], mark);
  assert.equal(await running("node02", "harbor-registry"), true);
  const health = await until("Harbor healthy on node02", async () => {
    const body = (await (await fetch(`http://${ADDRESS.node02}:5000/api/v2.0/health`)).json()) as {
      status: string;
    };
    return body.status === "healthy" ? body : undefined;
  });
  assert.equal(health.status, "healthy");
});

test("the control-plane Redis restarted: the primary keeps serving and nothing fails over", async () => {
  await settled("node01");
  const failoversBefore = threads(/S1\/S3|S4/);
  const state = await readState(site.paths.stateFile);
  const redis = state?.processes[REDIS_PROCESS_KEY];
  assert.ok(redis, "the lab recorded its Redis");
  process.kill(redis.pid, "SIGTERM");
  // Longer than half the primary lease: the primary's agent asks its peer, which answers.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const [during] = await query<{ standby: boolean }>(ADDRESS.node01, "select pg_is_in_recovery() as standby");
  assert.equal(during?.standby, false, "node01 still serves writes while Redis is down");
  const up = await runCli(["lab", "up"], site.env, 120_000);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  await settled("node01");
  assert.equal((await writableThroughVip(10_000)).server, "node01");
  assert.equal(threads(/S1\/S3|S4/), failoversBefore, "no failover was started");
});

/**
 * Asks a node's own PostgreSQL whether it takes writes, from inside that node's namespace (the
 * control host may be cut off from it): true, false, or undefined when it does not answer.
 */
async function writableSeenFrom(node: NodeName, host: string = ADDRESS[node]): Promise<boolean | undefined> {
  try {
    const { stdout } = await execFileAsync(
      "ip",
      [
        ...["netns", "exec", node, "psql", "-Atq", "-c", "select pg_is_in_recovery()"],
        `host=${host} user=postgres dbname=postgres connect_timeout=2`,
      ],
      { env: { ...process.env, PGPASSWORD: site.env.HARBOR_HA_PG_PASSWORD }, timeout: 5_000 },
    );
    return stdout.trim() === "f";
  } catch {
    return undefined;
  }
}

/** The text of the first alert-channel message after `mark` that matches. */
const alertAfter = (mark: number, pattern: RegExp) =>
  site.emulator
    .waitForMessage(site.site.slack.alertChannel, (m) => Number(m.ts) > mark && pattern.test(m.text), 150_000)
    .then((m) => m.text);

test("the primary's node cut off from the control host only: it keeps serving, the standby refuses to be promoted, no second primary", async (t) => {
  await settled("node01");
  const mark = site.alertMark();
  const heal = await cutFromControlHost("node01");
  const looks: string[] = [];
  let refusal: string | undefined;
  try {
    // The controller loses node01's agent and SSH, waits out its lease and asks node02 to promote.
    const refused = alertAfter(mark, /still receives WAL from/);
    let done = false;
    refused.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const writable = await Promise.all(NODES.map((node) => writableSeenFrom(node)));
      looks.push(NODES.filter((_, index) => writable[index] === true).join("+") || "none");
      assert.ok(!(writable[0] && writable[1]), `two writable primaries at look ${looks.length}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    refusal = await refused;
    t.diagnostic(`${looks.length} looks, primaries seen: ${[...new Set(looks)].join(", ")}`);
    t.diagnostic(refusal);
    assert.match(refusal, /node02 still receives WAL from 10\.77\.0\.11/);
    // The refusal is followed by the hold, with what a person must do.
    t.diagnostic(await alertAfter(mark, /Failover held: node02 still receives WAL/));
    assert.equal(await writableSeenFrom("node01"), true, "node01 still takes writes");
    assert.equal(await writableSeenFrom("node02"), false, "node02 is still a standby");
    // A client that is not the control host (node02's namespace) still writes through the VIP.
    assert.equal(await writableSeenFrom("node02", VIP), true, "writable through the VIP on node01");
  } finally {
    await heal();
  }
  await settled("node01");
  assert.equal((await writableThroughVip(10_000)).server, "node01");
  // Back in touch, the failed incident ends resolved: the next fault is a new one.
  await resolvedThread(/S1\/S3/, [/still receives WAL from/], mark);
});

test("the primary's node cut off the network: it fences itself, node02 is promoted when its lease runs out, and it rejoins after the heal", async (t) => {
  await settled("node01");
  const mark = site.alertMark();
  const heal = await cutNodeLink("node01", site.site.vip.interface);
  const cutAt = performance.now();
  try {
    const write = await writableThroughVip(90_000);
    t.diagnostic(
      `node01 cut off -> writable on ${write.server} in ${(performance.now() - cutAt).toFixed(0)} ms`,
    );
    assert.equal(write.server, "node02");
    // node01's agent stopped its own primary: nobody on the far side took writes.
    assert.equal(await running("node01", postgresContainerName("node01")), false);
  } finally {
    await heal();
  }
  await settled("node02");
  const thread = await resolvedThread(/S1\/S3/, [/primary lease has run out/, /promote node02/], mark);
  t.diagnostic(
    thread
      .split("\n")
      .filter((line) => /^\+/.test(line))
      .join(" | "),
  );
});

test("two bots: the active one is killed, the other takes the controller's lease and fails over the next fault", async (t) => {
  await settled("node02");
  const [first] = site.bots;
  assert.ok(first);
  const second = await site.startBot(/"event":"bot.ready"/);
  first.process.child.kill("SIGKILL");
  await second.process.waitFor(/"event":"controller.lease.acquired"/, 30_000);
  await docker("node02").getContainer(postgresContainerName("node02")).kill();
  const killedAt = performance.now();
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `with the second bot: primary killed -> writable in ${(performance.now() - killedAt).toFixed(0)} ms`,
  );
  assert.equal(write.server, "node01");
  await settled("node01");
});
