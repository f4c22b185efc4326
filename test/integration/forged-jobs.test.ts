import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, type QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { CONTROLLER_QUEUE } from "../../bot/controller-queue.ts";
import { readSiteKey, type SiteKey } from "../../config/site-key.ts";
import { AuditLog, type RecordedAuditEntry } from "../../jobs/audit-log.ts";
import { queueEventsFromNow } from "../../jobs/queue-events.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { securityEventsKey } from "../../jobs/signing/job-refusal.ts";
import { addSigned } from "../../jobs/signing/signed-add.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { playHealthyAgents, waitForHttp } from "../support/chat-stack.ts";
import { siteKeyForTest } from "../support/job-fixtures.ts";
import { loopbackSite } from "../support/loopback-site.ts";
import { type Background, botArgs, startCli } from "../support/processes.ts";
import { freePort, startTestRedis, type TestRedis } from "../support/redis-server.ts";

/**
 * The attacker of issue 14: valid access to the control-plane Redis, no site key. They add jobs
 * with BullMQ's own Queue.add to a real agent's queue and to the real bot's controller queue.
 * Each job must end failed with the reason, leave an audit entry and a security event, post one
 * alert in the alert channel, and never reach its executor or handler.
 */
describe("forged jobs on a real agent and a real bot", () => {
  const site = "forgedtest";
  const alertChannel = "C0123ALERTS";
  let redis: TestRedis;
  let client: Redis;
  let dir: string;
  let siteKey: SiteKey;
  let emulator: RunningEmulator;
  let agent: Background;
  let bot: Background;
  const opened: Array<{ queue: Queue; events: QueueEvents; connections: Redis[] }> = [];

  const secrets = {
    HARBOR_HA_PG_PASSWORD: "pg-secret",
    HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
    HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
  };
  /** The attacker's own queue handle: plain BullMQ, the site's prefix, nothing else. */
  const attackerQueue = async (name: string) => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const eventsConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection, prefix: queuePrefix(site) });
    const events = await queueEventsFromNow(name, queuePrefix(site), connection, eventsConnection);
    opened.push({ queue, events, connections: [connection, eventsConnection] });
    return { queue, events };
  };
  /** The bot records each refusal in the audit log as it reads the security events: wait for it. */
  const auditEntry = async (matches: (entry: RecordedAuditEntry) => boolean) => {
    for (let attempt = 0; attempt < 150; attempt += 1) {
      const found = (await new AuditLog(client, site, siteKey).recent(50)).find(matches);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  };
  const securityEvents = async () =>
    (await client.xrange(securityEventsKey(site), "-", "+")).map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] ?? ""] = fields[i + 1] ?? "";
      return record;
    });

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-forged-"));
    const loopback = await loopbackSite({ site, redisUrl: redis.url, dir });
    const config = join(dir, "site.yaml");
    writeFileSync(config, loopback.yaml);
    siteKey = await readSiteKey(loopback.siteKeyFile);
    const stopPlaying = await playHealthyAgents(client, site);
    after(stopPlaying);
    const botPort = await freePort();
    const signingSecret = "test-signing-secret";
    const botToken = "xoxb-test-bot-token";
    emulator = await startEmulator({
      port: 0,
      botUrl: `http://127.0.0.1:${botPort}/slack/events`,
      signingSecret,
      botToken,
    });
    agent = startCli(["agent", "--node", "node02", "--config", config, "--metrics-listen", "off"], secrets);
    const metricsPort = await freePort();
    bot = startCli(botArgs(config, botPort, metricsPort), {
      ...secrets,
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: emulator.apiUrl,
    });
    await agent.waitFor(/"event":"agent.ready"/);
    await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`, bot.output);
  });

  after(async () => {
    for (const { queue, events, connections } of opened) {
      await Promise.all([queue.close(), events.close()]);
      for (const connection of connections) connection.disconnect();
    }
    await Promise.all([agent?.stop("SIGTERM"), bot?.stop("SIGTERM")]);
    await emulator?.close();
    client?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a postgres.rejoin {allowReclone: true} added with Queue.add is refused by the agent: failed, audited, alerted, never run", async () => {
    const { queue, events } = await attackerQueue(nodeQueueName("node02"));
    const job = await queue.add("postgres.rejoin", {
      fencingToken: 1,
      primary: { node: "node01", address: "127.77.0.11" },
      allowReclone: true,
    });
    await assert.rejects(job.waitUntilFinished(events, 15_000), /job refused: not signed/);
    const failed = await queue.getJob(job.id ?? "");
    assert.equal(await failed?.getState(), "failed");
    assert.equal(failed?.attemptsMade, 1, "unrecoverable: never retried");

    const entry = await auditEntry((candidate) =>
      Boolean(candidate.detail?.startsWith(`postgres.rejoin ${job.id}: not signed`)),
    );
    assert.deepEqual(entry && { actor: entry.actor, action: entry.action, outcome: entry.outcome }, {
      actor: "agent:node02",
      action: "job.refused",
      outcome: "refused",
    });
    const event = (await securityEvents()).find(
      (candidate) => candidate.jobId === job.id && candidate.job === "postgres.rejoin",
    );
    assert.deepEqual(event && { consumer: event.consumer, job: event.job, reason: event.reason }, {
      consumer: "node02",
      job: "postgres.rejoin",
      reason: "not signed",
    });
    const alert = await emulator.waitForMessage(
      alertChannel,
      (message) => message.text.includes(`\`postgres.rejoin\` job \`${job.id}\``),
      15_000,
    );
    assert.match(alert.text, /^:rotating_light: forged or malformed job refused on node02: not signed/);
    assert.doesNotMatch(
      agent.output(),
      /"event":"job.started"[^\n]*postgres\.rejoin|postgres\.rejoin started/,
    );
  });

  test("a postgres.promote signed with another key is refused as a bad signature", async () => {
    const { queue, events } = await attackerQueue(nodeQueueName("node02"));
    const job = await addSigned(
      queue,
      siteKeyForTest(),
      "postgres.promote",
      { fencingToken: 1 },
      {
        jobId: "forged-promote",
        lifetimeMs: 60_000,
      },
    );
    await assert.rejects(job.waitUntilFinished(events, 15_000), /job refused: bad signature/);
    const alert = await emulator.waitForMessage(
      alertChannel,
      (message) => message.text.includes("forged-promote"),
      15_000,
    );
    assert.match(alert.text, /forged or malformed job refused on node02: bad signature/);
    assert.doesNotMatch(agent.output(), /postgres\.promote started/);
  });

  test("a signed job added again after it ran is refused as a replay", async () => {
    const { queue, events } = await attackerQueue(nodeQueueName("node02"));
    const add = () =>
      addSigned(queue, siteKey, "ping", { sentAt: 1 }, { jobId: "captured-ping", lifetimeMs: 60_000 });
    const first = await add();
    assert.equal(((await first.waitUntilFinished(events, 15_000)) as { node: string }).node, "node02");
    // What the attacker captured, re-added once BullMQ removed the original.
    const data = first.data as unknown;
    await first.remove();
    const again = await queue.add("ping", data, { jobId: "captured-ping" });
    await assert.rejects(
      again.waitUntilFinished(events, 15_000),
      /job refused: replayed: job captured-ping already ran/,
    );
  });

  test("a forged manual.run switchover on the bot's queue is refused before the controller sees it", async () => {
    const { queue, events } = await attackerQueue(CONTROLLER_QUEUE);
    const job = await queue.add("manual.run", {
      verb: "switchover",
      reclone: "false",
      dryRun: "false",
      actor: "U0SOMEONE",
    });
    await assert.rejects(job.waitUntilFinished(events, 15_000), /job refused: not signed/);
    // BullMQ numbers an attacker's jobs per queue: the node queue's first job has this id too.
    const event = (await securityEvents()).find(
      (candidate) => candidate.jobId === job.id && candidate.job === "manual.run",
    );
    assert.equal(event?.consumer, "controller");
    assert.equal(event?.reason, "not signed");
    assert.ok(
      await auditEntry(
        (entry) =>
          entry.actor === "controller" &&
          Boolean(entry.detail?.startsWith(`manual.run ${job.id}: not signed`)),
      ),
    );
    await emulator.waitForMessage(
      alertChannel,
      (message) =>
        message.text.includes(`refused on controller: not signed`) && message.text.includes(String(job.id)),
      15_000,
    );
    assert.doesNotMatch(bot.output(), /"event":"controller.job.started"/);
  });

  test("a remediation.run for an approval set to approved in Redis runs nothing: the approval is not sealed", async () => {
    const { queue, events } = await attackerQueue(CONTROLLER_QUEUE);
    // The attacker writes an approved request; a signed job (here: one a real bot would send) names it.
    const requestId = "0badc0ffee00";
    const decision = {
      scenario: "manual failover",
      reason: "forged",
      actions: [{ kind: "promote", node: "node02" }],
    };
    await client.hset(`harbor-ha:${site}:approval:${requestId}`, {
      data: JSON.stringify({
        kind: "remediation",
        requester: "controller",
        reason: "forged",
        risk: "",
        planText: "",
        planHash: "00".repeat(32),
        params: { decision: JSON.stringify(decision) },
        channel: alertChannel,
        createdAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      }),
      status: "approved",
      decidedBy: "U0123OPS1",
      decidedAt: String(Date.now()),
    });
    const job = await addSigned(
      queue,
      siteKey,
      "remediation.run",
      { requestId },
      {
        jobId: `remediation-${requestId}`,
        lifetimeMs: 60_000,
      },
    );
    await assert.rejects(
      job.waitUntilFinished(events, 15_000),
      /job refused: approval not sealed: approval request 0badc0ffee00 \(approved\) does not carry a valid seal/,
    );
    assert.doesNotMatch(bot.output(), /"event":"controller.execute|promote node02/);
    await emulator.waitForMessage(
      alertChannel,
      (message) => message.text.includes("refused on controller: approval not sealed"),
      15_000,
    );
  });

  test("a signed manual.run replayed on the bot's queue after it ran is refused", async () => {
    const { queue, events } = await attackerQueue(CONTROLLER_QUEUE);
    const payload = { verb: "switchover", reclone: false, dryRun: true, actor: "cli:operator" } as const;
    const first = await addSigned(queue, siteKey, "manual.run", payload, {
      jobId: "captured-switchover",
      lifetimeMs: 60_000,
    });
    // The controller answered it (what it says depends on the snapshot; a dry run changes nothing).
    const outcome = (await first.waitUntilFinished(events, 15_000)) as { ok: boolean; text: string };
    assert.equal(typeof outcome.text, "string");
    const data = first.data as unknown;
    await first.remove();
    const again = await queue.add("manual.run", data, { jobId: "captured-switchover" });
    await assert.rejects(again.waitUntilFinished(events, 15_000), /job refused: replayed/);
    await emulator.waitForMessage(
      alertChannel,
      (message) => message.text.includes("refused on controller: replayed"),
      15_000,
    );
  });

  test("each refusal is one security event and one alert, not one per bot or per read", async () => {
    const events = await securityEvents();
    const alerts = emulator
      .messages(alertChannel)
      .filter((message) => message.text.startsWith(":rotating_light: forged or malformed job refused"));
    assert.equal(events.length, 6, JSON.stringify(events.map((event) => [event.consumer, event.reason])));
    assert.equal(alerts.length, events.length);
  });
});
