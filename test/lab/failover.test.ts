/**
 * The runbook's scenarios on the real lab, with the real controller (inside `harbor-ha bot`)
 * and faults injected from outside the product: `docker kill` of the primary's PostgreSQL
 * (S1/S3, then S2 as the old primary's node is still there), a keepalived crash on the VIP
 * holder (S4), the standby's container dying, a switchover, the VIP on two nodes, two primaries
 * and a killed agent. After each: exactly one VIP holder, it is the primary, a write through
 * 10.77.0.100:5432 succeeds, the old primary streams as a standby, and the alert thread in the
 * emulator has the timeline. Root needed; the lab always comes down. More faults: faults.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { deployLock } from "../../jobs/deploy/deploy-lock.ts";
import { keepalivedContainerName } from "../../jobs/deploy/keepalived-conf.ts";
import { postgresContainerName } from "../../jobs/deploy/postgres-config.ts";
import { readState } from "../../lab/state.ts";
import { ADDRESS, failoverSite, NODES, VIP } from "../support/failover-site.ts";
import { openLabRedis } from "../support/lab-redis.ts";
import { runCli } from "../support/processes.ts";
import { vipHolders } from "../support/vip.ts";

const execFileAsync = promisify(execFile);
const site = failoverSite("failover-test");
const { docker, query, settled, resolvedThread, writableThroughVip, until, paths } = site;

before(() => site.start());
after(() => site.stop());

test("S1/S3 then S2: the primary's container killed on the VIP node; node02 takes over, node01 rejoins", async (t) => {
  await settled("node01");
  const mark = site.alertMark();
  await docker("node01").getContainer(postgresContainerName("node01")).kill();
  const killedAt = performance.now();
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `primary killed -> writable through the VIP in ${(performance.now() - killedAt).toFixed(0)} ms (server ${write.server})`,
  );
  assert.equal(write.server, "node02");
  await settled("node02");
  const thread = await resolvedThread(
    /S1\/S3/,
    [/fence node01/, /promote node02/, /Timeline/, /promoted node02/, /writable through the VIP/],
    mark,
  );
  t.diagnostic(
    thread
      .split("\n")
      .filter((line) => /^\+/.test(line))
      .join(" | "),
  );
});

test("S4: keepalived crashes on the VIP holder; the peer is promoted, the old node comes back as BACKUP and standby", async (t) => {
  await settled("node02");
  const mark = site.alertMark();
  await docker("node02").getContainer(keepalivedContainerName("node02")).kill();
  const killedAt = performance.now();
  await site.primaryIs("node01");
  const write = await writableThroughVip(60_000);
  t.diagnostic(
    `keepalived killed -> writable through the VIP on node01 in ${(performance.now() - killedAt).toFixed(0)} ms`,
  );
  assert.equal(write.server, "node01");
  await settled("node01");
  await resolvedThread(/S4/, [/fence node02/, /promote node01/], mark);
});

test("the standby's container dies: it is started again and streams", async () => {
  await settled("node01");
  const mark = site.alertMark();
  await docker("node02").getContainer(postgresContainerName("node02")).kill();
  await until("node02's PostgreSQL restarted", async () => {
    const container = await docker("node02").getContainer(postgresContainerName("node02")).inspect();
    return container.State.Running ? true : undefined;
  });
  await settled("node01");
  await resolvedThread(/standby PostgreSQL down/, [/restart PostgreSQL on node02/], mark);
});

test("a deploy in progress (its lock held): the standby's death is asked, not repaired beside it; once the deploy ends it is", async () => {
  await settled("node01");
  const mark = site.alertMark();
  const redis = await openLabRedis("controller");
  const lock = deployLock(redis, site.site.site);
  const held = await lock.acquire("U0DEPLOYER", "deploy (a lab test's)", 120_000);
  assert.ok(held.ok, "the lab's deploy lock was free");
  try {
    await docker("node02").getContainer(postgresContainerName("node02")).kill();
    const channel = site.site.slack.alertChannel;
    const said = (m: { text: string; blocks?: unknown }) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;
    await site.emulator.waitForMessage(
      channel,
      (m) => Number(m.ts) > mark && /U0DEPLOYER is deploying/.test(said(m)) && /Approve/.test(said(m)),
      60_000,
    );
    const container = await docker("node02").getContainer(postgresContainerName("node02")).inspect();
    assert.equal(container.State.Running, false, "nothing was restarted under the deploy");
  } finally {
    await lock.release(held.holder.token);
    redis.disconnect();
  }
  await until("node02's PostgreSQL restarted once the deploy lock is gone", async () => {
    const container = await docker("node02").getContainer(postgresContainerName("node02")).inspect();
    return container.State.Running ? true : undefined;
  });
  await settled("node01");
});

/** Clicks Approve on an approval request as each of the site's first `count` approvers (the two-person rule). */
async function approveAsApprovers(approval: { ts: string; blocks: unknown }, count = 2): Promise<void> {
  const id = /"value":"([^"]+)"/.exec(JSON.stringify(approval.blocks))?.[1] ?? "";
  for (const user of site.site.slack.approvers.slice(0, count)) {
    const clicked = await site.emulator.action({
      channel: site.site.slack.alertChannel,
      user,
      messageTs: approval.ts,
      actionId: "approval.approve",
      blockId: `approval:${id}`,
      value: id,
    });
    assert.equal(clicked.acked, true);
  }
}

test("a switchover asked from a terminal waits for two approvers, then the controller runs it: node02 becomes the primary, no acknowledged write is lost", async (t) => {
  await settled("node01");
  await query(VIP, ["create table if not exists switch_probe (id int)", "truncate switch_probe"]);
  for (let id = 1; id <= 50; id++) await query(VIP, `insert into switch_probe values (${id})`);
  const dry = await runCli(["--config", paths.config, "switchover", "--dry-run"], site.env, 120_000);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /dry run, nothing done: switchover from node01 to node02/);
  const asked = await runCli(["--config", paths.config, "switchover"], site.env, 300_000);
  assert.equal(asked.code, 0, asked.stdout + asked.stderr);
  assert.match(asked.stdout, /asked for approval in the alert channel: switchover from node01 to node02/);
  const approval = await site.emulator.waitForMessage(
    site.site.slack.alertChannel,
    (m) => {
      const blocks = JSON.stringify(m.blocks);
      return (
        /approval\.approve/.test(blocks) && /Requested by\* `cli:/.test(blocks) && /switchover/.test(blocks)
      );
    },
    60_000,
  );
  const [row] = await query<{ standby: boolean }>(ADDRESS.node02, "select pg_is_in_recovery() as standby");
  assert.equal(row?.standby, true, "nothing moved before the approvals");
  const started = performance.now();
  await approveAsApprovers(approval);
  await settled("node02");
  t.diagnostic(
    `switchover: last approval -> settled on node02 in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const [count] = await query<{ n: string }>(ADDRESS.node02, "select count(*) as n from switch_probe");
  assert.equal(Number(count?.n), 50, "every acknowledged write is on the new primary");
});

test("the VIP on two nodes: keepalived restarts on the node without the primary and the stray VIP is gone", async () => {
  await settled("node02");
  const mark = site.alertMark();
  await execFileAsync("ip", ["netns", "exec", "node01", "ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
  await until("the VIP only on node02", async () => {
    const holders = await vipHolders(NODES, VIP);
    return holders.length === 1 && holders[0] === "node02" ? true : undefined;
  });
  await resolvedThread(/VIP on two nodes/, [/restart keepalived on node01/], mark);
  await settled("node02");
});

test("two writable primaries: the one without the VIP is fenced; rejoining it waits for two approvers", async () => {
  await settled("node02");
  await query(ADDRESS.node01, "select pg_promote(true)");
  const channel = site.site.slack.alertChannel;
  const approval = await site.emulator.waitForMessage(
    channel,
    (m) =>
      m.thread_ts !== undefined &&
      /approval\.approve/.test(JSON.stringify(m.blocks)) &&
      // The whole plan: one made from an observation taken before the fence had stopped
      // keepalived lacks its start, and is superseded by this one.
      /start keepalived on node01/.test(JSON.stringify(m.blocks)),
    120_000,
  );
  // node01 is fenced while the question waits: one primary, node02, holding the VIP.
  assert.deepEqual(await vipHolders(NODES, VIP), ["node02"]);
  await approveAsApprovers(approval);
  await settled("node02");
});

test("the agent killed on the primary's node: writes still reach it through the VIP, so nothing fails over", async () => {
  await settled("node02");
  const state = await readState(paths.stateFile);
  const agent = state?.processes["agent:node02"];
  assert.ok(agent, "the lab recorded node02's agent");
  process.kill(agent.pid, "SIGKILL");
  // Long enough for node02 to be silent (3 s) and the finding to be confirmed several times over.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const [row] = await query<{ standby: boolean }>(ADDRESS.node02, "select pg_is_in_recovery() as standby");
  assert.equal(row?.standby, false, "node02 is still the primary");
  assert.deepEqual(await vipHolders(NODES, VIP), ["node02"]);
  // The lab starts a dead agent again; the site is whole.
  const up = await runCli(["lab", "up"], site.env, 120_000);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  await settled("node02");
});
