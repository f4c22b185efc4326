import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { parseDocument } from "yaml";
import { SiteLock } from "../../jobs/site-lock.ts";
import { signedHeaders } from "../../slack-emulator/signing.ts";
import { type ChatStack, startChatStack } from "../support/chat-stack.ts";
import { botArgs, runCli, startCli } from "../support/processes.ts";
import { freePort } from "../support/redis-server.ts";

/**
 * The real bot (`harbor-ha bot`, a Bolt app over HTTP) against the Slack emulator and a real
 * Redis in which the stack plays the agents: node01 primary with the VIP and node02 standby.
 * Everything listens on loopback; the site's addresses are loopback too.
 */
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
    stack = await startChatStack({ site });
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
});
