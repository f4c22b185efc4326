import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { parseDocument } from "yaml";
import { CONTROLLER_QUEUE } from "../../bot/controller-queue.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { AuditLog, type RecordedAuditEntry } from "../../jobs/audit-log.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { SiteLock } from "../../jobs/site-lock.ts";
import { signedHeaders } from "../../slack-emulator/signing.ts";
import { type ChatStack, startChatStack } from "../support/chat-stack.ts";
import { botArgs, runCli, startCli } from "../support/processes.ts";
import { freePort } from "../support/redis-server.ts";

/**
 * The real bot (`harbor-ha bot`, a Bolt app over HTTP) against the Slack emulator and a real
 * Redis in which the stack plays the agents: node01 primary with the VIP and node02 standby.
 * Everything listens on loopback; the site's addresses are loopback too.
 *
 * Who may do what: everyone views; the user group S0OPS (bob, carol) operates, in the alert
 * channel and C0LOCK; carol, dan and erin approve, two of them per request (the two-person
 * rule, on by default). Alice holds no role.
 */
const ALERTS = "C0123ALERTS";
describe("the Slack bot over HTTP, through the emulator", () => {
  const site = "bottest";
  let stack: ChatStack;
  let emulator: ChatStack["emulator"];
  let bot: ChatStack["bot"];
  let botUrl: string;
  let signingSecret: string;

  const slashBody = (text: string, channel: string) =>
    new URLSearchParams({
      command: "/harbor",
      text,
      channel_id: channel,
      user_id: "U0ALICE",
      user_name: "alice",
      team_id: "T0HARBOR",
      trigger_id: `trigger-${Math.random()}`,
      response_url: `${emulator.url}/emulator/respond/none`,
    }).toString();
  const metric = async (name: string) => {
    const text = await (await fetch(stack.metricsUrl)).text();
    const line = text.split("\n").find((candidate) => candidate.startsWith(name));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };

  before(async () => {
    stack = await startChatStack({
      site,
      siteChanges: [
        [["slack", "alertChannel"], ALERTS],
        [["slack", "operators"], ["S0OPS"]],
        [
          ["slack", "approvers"],
          ["U0CAROL", "U0DAN", "U0ERIN"],
        ],
        [
          ["slack", "changeChannels"],
          [ALERTS, "C0LOCK"],
        ],
      ],
      emulator: {
        users: ["alice", "bob", "carol", "dan", "erin"].map((name) => ({
          id: `U0${name.toUpperCase()}`,
          name,
        })),
        usergroups: { S0OPS: ["U0BOB", "U0CAROL"] },
      },
    });
    ({ emulator, bot, botUrl, signingSecret } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  test("/harbor status is acked with 200 and a card naming both nodes, the VIP holder and the primary appears", async (t) => {
    const result = await emulator.command({ channel: "C0STATUS", user: "U0ALICE", text: "/harbor status" });
    assert.equal(result.status, 200);
    assert.equal(result.acked, true);
    t.diagnostic(`ack in ${result.latencyMs.toFixed(1)} ms`);
    const card = await emulator.waitForMessage(
      "C0STATUS",
      (message) => message.text.startsWith(`${site}:`),
      10_000,
    );
    const blocks = JSON.stringify(card.blocks);
    assert.match(blocks, /VIP 127\.77\.0\.100 on \*node01\* · primary \*node01\*/);
    assert.match(blocks, /\*node01\* \(127\.77\.0\.11\) · primary/);
    assert.match(blocks, /\*node02\* \(127\.77\.0\.12\) · standby/);
    // Nothing answers at the VIP here: the card must say so rather than claim health.
    assert.match(blocks, /write through the VIP FAILED/);
    assert.equal(card.user, "U0HARBORBOT");
    assert.equal(card.ephemeral, undefined, "the whole channel sees the card");
  });

  test("a forged signature and a stale timestamp get 401, are logged and counted, and run nothing", async () => {
    const body = slashBody("status", "C0FORGED");
    const forged = await fetch(botUrl, {
      method: "POST",
      headers: signedHeaders("not-the-secret", body, "application/x-www-form-urlencoded", Date.now()),
      body,
    });
    assert.equal(forged.status, 401);
    const stale = await fetch(botUrl, {
      method: "POST",
      headers: signedHeaders(
        signingSecret,
        body,
        "application/x-www-form-urlencoded",
        Date.now() - 6 * 60_000,
      ),
      body,
    });
    assert.equal(stale.status, 401);
    await bot.waitFor(/"event":"slack.request.refused","reason":"stale"/);
    await bot.waitFor(/"event":"slack.request.refused","reason":"signature"/);
    assert.equal(await metric('harbor_ha_slack_requests_refused_total{reason="stale"}'), 1);
    assert.equal(await metric('harbor_ha_slack_requests_refused_total{reason="signature"}'), 1);
    assert.deepEqual(emulator.messages("C0FORGED"), []);
  });

  test("Slack's retries of a command are acked but run it once", async () => {
    const result = await emulator.command({
      channel: "C0RETRY",
      user: "U0BOB",
      text: "/harbor status",
      retries: 2,
      retryReason: "http_timeout",
    });
    assert.deepEqual(
      [result.status, ...result.retries.map((retry) => retry.status)],
      [200, 200, 200],
      "every delivery is acked",
    );
    await emulator.waitForMessage("C0RETRY", (message) => message.text.startsWith(`${site}:`), 10_000);
    await bot.waitFor(/"event":"command.duplicate".*"retryNum":2/);
    assert.equal(emulator.messages("C0RETRY").length, 1, "one card, not three");
    assert.equal(await metric("harbor_ha_slack_duplicates_total"), 2);
  });

  test("unknown verbs, bad arguments and oversized text get a short usage reply to the asker only", async () => {
    for (const [text, expected] of [
      ["/harbor reboot-everything", /Unknown command `reboot-everything`/],
      ["/harbor history lots", /N must be a whole number from 1 to 50/],
      [`/harbor status ${"x".repeat(600)}`, /the limit is 500/],
    ] as const) {
      const result = await emulator.command({ channel: "C0USAGE", user: "U0CAROL", text });
      assert.equal(result.status, 200, text);
      assert.match(result.shown?.text ?? "", expected);
      assert.match(result.shown?.text ?? "", /Usage/);
      assert.equal(result.shown?.ephemeral, "U0CAROL");
    }
    assert.deepEqual(
      emulator.messages("C0USAGE").filter((message) => !message.ephemeral),
      [],
      "nothing was posted for the channel",
    );
  });

  test("a body over the limit is refused with 413 before it is parsed", async () => {
    const body = slashBody("x".repeat(300 * 1024), "C0BIG");
    const response = await fetch(botUrl, {
      method: "POST",
      headers: signedHeaders(signingSecret, body, "application/x-www-form-urlencoded", Date.now()),
      body,
    });
    assert.equal(response.status, 413);
  });

  test("a signed but malformed body gets 400, logged as refused, and runs nothing", async () => {
    const body = "payload=%7Bnot-json";
    const response = await fetch(botUrl, {
      method: "POST",
      headers: signedHeaders(signingSecret, body, "application/x-www-form-urlencoded", Date.now()),
      body,
    });
    assert.equal(response.status, 400);
    await bot.waitFor(/"event":"slack.request.refused","reason":"malformed"/);
    assert.equal(await metric('harbor_ha_slack_requests_refused_total{reason="malformed"}'), 1);
  });

  test("/harbor help answers at once; /harbor history lists who ran what, newest first", async () => {
    const help = await emulator.command({ channel: "C0HIST", user: "U0ALICE", text: "/harbor help" });
    assert.match(help.shown?.text ?? "", /\/harbor status/);
    await emulator.command({ channel: "C0HIST", user: "U0ALICE", text: "/harbor history 3" });
    const reply = await emulator.waitForMessage(
      "C0HIST",
      (message) => /: the last \d+ audit entries/.test(message.text),
      10_000,
    );
    assert.equal(reply.ephemeral, "U0ALICE");
    const blocks = JSON.stringify(reply.blocks);
    assert.match(blocks, /<@U0ALICE> \/harbor help → \*ok\*/);
    assert.match(blocks, /<@U0CAROL> \/harbor status x+… → \*refused\*|<@U0CAROL>.*refused/);
    assert.match(blocks, /chain verified: \d+ chained entries/);
  });

  test("harbor-ha history reads the same audit log from a terminal", async () => {
    const result = await runCli(["history", "--json", "-n", "50", "--config", stack.config]);
    assert.equal(result.code, 0, result.stderr);
    const entries = JSON.parse(result.stdout) as Array<{
      actor: string;
      action: string;
      outcome: string;
      where: string;
    }>;
    assert.ok(
      entries.some(
        (e) =>
          e.actor === "U0ALICE" && e.action === "/harbor help" && e.outcome === "ok" && e.where === "C0HIST",
      ),
      result.stdout,
    );
    assert.ok(
      entries.some((e) => e.outcome === "refused" && e.action.startsWith("/harbor reboot-everything")),
    );
    // The bot chained every entry it appended with the site key the CLI reads too.
    const verified = await runCli(["history", "--verify", "--config", stack.config]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /^audit chain of \S+ verified: \d+ chained entries/);
    const bad = await runCli(["history", "-n", "zero", "--config", stack.config]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--count must be a whole number/);
  });

  test("while someone holds the deploy lock, /harbor lock names them and /harbor deploy is refused; only the holder frees it", async () => {
    const redis = new Redis(stack.redis.url);
    try {
      const lock = new SiteLock(redis, site, "deploy");
      const taken = await lock.acquire("U0CAROL", "deploy (request test)", 60_000);
      assert.ok(taken.ok);
      assert.equal((await lock.acquire("U0BOB", "another", 60_000)).ok, false, "a second holder is refused");
      await emulator.command({ channel: "C0LOCK", user: "U0ALICE", text: "/harbor lock" });
      await emulator.waitForMessage(
        "C0LOCK",
        (m) =>
          m.ephemeral === "U0ALICE" &&
          /<@U0CAROL> holds the deploy lock since .*deploy \(request test\)/.test(m.text),
        10_000,
      );
      await emulator.command({ channel: "C0LOCK", user: "U0BOB", text: "/harbor deploy" });
      await emulator.waitForMessage(
        "C0LOCK",
        (m) => m.ephemeral === "U0BOB" && /<@U0CAROL> is deploying since/.test(m.text),
        10_000,
      );
      assert.equal(await lock.release("not-the-token"), false, "a wrong token frees nothing");
      assert.equal(await lock.release(taken.holder.token), true);
      await emulator.command({ channel: "C0LOCK", user: "U0ALICE", text: "/harbor lock" });
      await emulator.waitForMessage(
        "C0LOCK",
        (m) => m.ephemeral === "U0ALICE" && /No deploy is running/.test(m.text),
        10_000,
      );
    } finally {
      redis.disconnect();
    }
  });

  test("the bot refuses to start without its Slack settings, naming each missing one", async () => {
    const result = await runCli(["bot", "--port", "0", "--config", stack.config], {
      SLACK_BOT_TOKEN: "",
      SLACK_SIGNING_SECRET: "",
      SLACK_APP_TOKEN: "",
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /SLACK_BOT_TOKEN is not set/);
    assert.match(result.stderr, /set SLACK_SIGNING_SECRET \(HTTP mode\) or SLACK_APP_TOKEN \(Socket Mode\)/);
  });

  test("in Socket Mode the same command arrives over the emulator's WebSocket and gets the same card", async () => {
    const socketBot = startCli(
      botArgs(stack.config, await freePort(), "off"),
      stack.botEnv({ SLACK_APP_TOKEN: "xapp-test-app-token", SLACK_SIGNING_SECRET: "" }),
    );
    try {
      await socketBot.waitFor(/"event":"bot.ready".*"mode":"socket"/);
      await emulator.waitForSocketConnections(1, 10_000);
      const result = await emulator.command({
        channel: "C0SOCKET",
        user: "U0ALICE",
        text: "/harbor status",
        transport: "socket",
      });
      assert.equal(result.acked, true);
      const card = await emulator.waitForMessage(
        "C0SOCKET",
        (message) => message.text.startsWith(`${site}:`),
        10_000,
      );
      assert.match(JSON.stringify(card.blocks), /primary \*node01\*/);
    } finally {
      await socketBot.stop("SIGTERM");
    }
  });

  test("/metrics is not on Slack's listener; on its own, with metrics.bearerTokenEnv, it wants the token", async () => {
    assert.equal((await fetch(`http://127.0.0.1:${stack.botPort}/metrics`)).status, 404);
    assert.equal((await fetch(stack.metricsUrl)).status, 200);
    const dir = mkdtempSync(join(tmpdir(), "harbor-ha-bot-metrics-"));
    const config = join(dir, "site.yaml");
    const document = parseDocument(readFileSync(stack.config, "utf8"));
    document.setIn(["metrics", "bearerTokenEnv"], "HARBOR_HA_METRICS_TOKEN");
    writeFileSync(config, document.toString());
    const metricsPort = await freePort();
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const start = async (env: Record<string, string>) =>
      startCli(botArgs(config, await freePort(), metricsPort), stack.botEnv(env));
    const guarded = await start({ HARBOR_HA_METRICS_TOKEN: "scrape-me" });
    try {
      await guarded.waitFor(/"event":"bot.ready"/);
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: "Bearer guess" } })).status, 401);
      const scraped = await fetch(url, { headers: { authorization: "Bearer scrape-me" } });
      assert.equal(scraped.status, 200);
      assert.match(await scraped.text(), /harbor_ha_/);
    } finally {
      await guarded.stop("SIGTERM");
    }
    // The token named but unset: no metrics at all rather than open ones.
    const unset = await start({ HARBOR_HA_METRICS_TOKEN: "" });
    try {
      await unset.waitFor(/"event":"bot.ready"/);
      assert.match(unset.output(), /"event":"metrics.token_missing"/);
      assert.equal(
        await fetch(url).then(
          (r) => r.status,
          () => "refused",
        ),
        "refused",
      );
    } finally {
      await unset.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const withRedis = async <T>(use: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(stack.redis.url);
    try {
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  };
  const audited = (predicate: (entry: RecordedAuditEntry) => boolean) =>
    withRedis(async (redis) =>
      (await new AuditLog(redis, site, await readSiteKey(stack.siteKeyFile)).recent(200)).filter(predicate),
    );
  /** Every job on the controller's queue and the nodes' queues, in any state. */
  const queuedJobs = () =>
    withRedis(async (connection) => {
      let total = 0;
      for (const name of [CONTROLLER_QUEUE, nodeQueueName("node01"), nodeQueueName("node02")]) {
        const queue = new Queue(name, { connection, prefix: queuePrefix(site) });
        const counts = await queue.getJobCounts();
        total += Object.values(counts).reduce((sum, count) => sum + count, 0);
        await queue.close();
      }
      return total;
    });
  const approvalFields = (id: string) =>
    withRedis((redis) => redis.hgetall(`harbor-ha:${site}:approval:${id}`));

  test("a member who is no operator is refused /harbor switchover: told the role, audited, nothing queued or posted", async () => {
    const before = await queuedJobs();
    const result = await emulator.command({ channel: ALERTS, user: "U0ALICE", text: "/harbor switchover" });
    assert.equal(result.status, 200);
    assert.equal(result.shown?.ephemeral, "U0ALICE", "the refusal is shown to alice only");
    assert.equal(
      result.shown?.text,
      ":no_entry: `/harbor switchover` needs the operator role (slack.operators: <!subteam^S0OPS>); you do not have it, so nothing was run.",
    );
    const entries = await audited(
      (e) => e.actor === "U0ALICE" && e.action === "/harbor switchover" && e.outcome === "refused",
    );
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.detail, "needs the operator role");
    assert.equal(await queuedJobs(), before, "nothing was queued for the controller or a node");
    assert.deepEqual(
      emulator.messages(ALERTS).filter((m) => !m.ephemeral),
      [],
      "no incident, no approval, no announcement",
    );
  });

  test("the same member, holding no role, may still view: /harbor status posts the card", async () => {
    await emulator.command({ channel: "C0VIEWER", user: "U0ALICE", text: "/harbor status" });
    const card = await emulator.waitForMessage("C0VIEWER", (m) => m.text.startsWith(`${site}:`), 10_000);
    assert.equal(card.ephemeral, undefined);
  });

  test("an operator (by user group) is refused a changing verb outside slack.changeChannels, told where it runs", async () => {
    const result = await emulator.command({ channel: "C0RANDOM", user: "U0BOB", text: "/harbor pause" });
    assert.equal(
      result.shown?.text,
      ":no_entry: `/harbor pause` changes the site, so it runs only in <#C0123ALERTS>, <#C0LOCK> (slack.changeChannels); nothing was run here.",
    );
    assert.equal(result.shown?.ephemeral, "U0BOB");
    const entries = await audited((e) => e.actor === "U0BOB" && e.action === "/harbor pause");
    assert.equal(entries[0]?.outcome, "refused");
    assert.match(entries[0]?.detail ?? "", /not in slack\.changeChannels/);
    assert.deepEqual(
      emulator.messages("C0RANDOM").filter((m) => !m.ephemeral),
      [],
      "automation was not paused",
    );
  });

  test("a requester's own approve click on their failover is refused and it stays pending; two other approvers approve it", async () => {
    await emulator.command({ channel: ALERTS, user: "U0CAROL", text: "/harbor failover" });
    const asked = await emulator.waitForMessage(
      ALERTS,
      (m) =>
        /approval\.approve/.test(JSON.stringify(m.blocks)) &&
        /manual failover/.test(JSON.stringify(m.blocks)),
      15_000,
    );
    assert.match(JSON.stringify(asked.blocks), /Requested by\* <@U0CAROL>/);
    assert.match(JSON.stringify(asked.blocks), /needs 2 approvers other than the requester/);
    const id = /"value":"([^"]+)"/.exec(JSON.stringify(asked.blocks))?.[1] ?? "";
    const click = (user: string) =>
      emulator.action({
        channel: ALERTS,
        user,
        messageTs: asked.ts,
        actionId: "approval.approve",
        blockId: `approval:${id}`,
        value: id,
      });
    const toUser = (user: string, pattern: RegExp) =>
      emulator.waitForMessage(ALERTS, (m) => m.ephemeral === user && pattern.test(m.text), 10_000);

    await click("U0CAROL");
    await toUser("U0CAROL", /You asked for this, so you cannot approve it: 2 approvers other than you must/);
    assert.equal((await approvalFields(id)).status, "pending");
    assert.equal((await approvalFields(id)).approvals, undefined, "carol's click counted for nothing");

    await click("U0ALICE");
    await toUser("U0ALICE", /not one of this site's approvers/);

    await click("U0DAN");
    await toUser("U0DAN", /Your approval is recorded; the two-person rule waits for another approver/);
    assert.deepEqual(
      [(await approvalFields(id)).status, (await approvalFields(id)).approvals],
      ["pending", "U0DAN"],
    );
    await emulator.waitForMessage(
      ALERTS,
      (m) => m.ts === asked.ts && /Approved so far by <@U0DAN>/.test(JSON.stringify(m.blocks)),
      10_000,
    );
    await click("U0DAN");
    await toUser("U0DAN", /You already approved this request/);
    assert.equal(await queuedJobs(), 0, "nothing runs on one approval");

    await click("U0ERIN");
    await emulator.waitForMessage(
      ALERTS,
      (m) => m.ts === asked.ts && /Approved by <@U0DAN> and <@U0ERIN>/.test(JSON.stringify(m.blocks)),
      10_000,
    );
    assert.equal((await approvalFields(id)).status, "approved");
    const remediation = await withRedis(async (connection) => {
      const queue = new Queue(CONTROLLER_QUEUE, { connection, prefix: queuePrefix(site) });
      try {
        return await queue.getJob(`remediation-${id}`);
      } finally {
        await queue.close();
      }
    });
    assert.ok(remediation, "the approved failover was handed to the controller");
    const decisions = await audited((e) => e.action === `approve remediation (request ${id})`);
    assert.deepEqual(decisions.map((e) => `${e.actor} ${e.outcome}`).reverse(), [
      "U0CAROL refused: own-request",
      "U0ALICE refused: not-approver",
      "U0DAN recorded: 1 of 2",
      "U0DAN refused: already-approved",
      "U0ERIN approved",
    ]);
  });

  test("with the control-plane Redis down, a command is refused, not run: it could not be remembered as run", async () => {
    const outage = stack.redis.restart(6_000);
    try {
      const down = async () => {
        const probe = new Redis(stack.redis.url, {
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        probe.on("error", () => {});
        try {
          await probe.connect();
          await probe.ping();
          return false;
        } catch {
          return true;
        } finally {
          probe.disconnect();
        }
      };
      while (!(await down())) await new Promise((resolve) => setTimeout(resolve, 50));
      const result = await emulator.command({ channel: "C0DOWN", user: "U0ALICE", text: "/harbor status" });
      assert.equal(result.status, 200, "still acked within Slack's 3 s");
      const reply = await emulator.waitForMessage(
        "C0DOWN",
        (m) => m.ephemeral === "U0ALICE" && /control plane is unreachable/.test(m.text),
        10_000,
      );
      assert.equal(
        reply.text,
        ":x: The control plane is unreachable; nothing was run, try again in a moment.",
      );
      assert.deepEqual(
        emulator.messages("C0DOWN").filter((m) => !m.ephemeral),
        [],
        "no status card",
      );
    } finally {
      await outage;
    }
  });
});
