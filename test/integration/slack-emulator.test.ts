import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { SocketModeClient } from "@slack/socket-mode";
import { ErrorCode, LogLevel, WebClient, WebClientEvent } from "@slack/web-api";
import { WebSocket } from "ws";
import type { InteractionResult } from "../../slack-emulator/interactions.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import type { MessageView } from "../../slack-emulator/store.ts";
import { type StandInBot, startStandInBot } from "../support/stand-in-bot.ts";

const SECRET = "test-signing-secret";
const BOT_TOKEN = "xoxb-test-token";
const APP_TOKEN = "xapp-test-token";
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/** WebClient's failures carry Slack's answer in `data`. */
function platformError(error: unknown): { error: string; errors?: string[] } {
  const coded = error as { code?: string; data?: { error: string; errors?: string[] } };
  assert.equal(coded.code, ErrorCode.PlatformError, `expected a Slack platform error, got ${String(error)}`);
  return coded.data ?? { error: "" };
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/**
 * The emulator with the real @slack/web-api WebClient, a stand-in bot that verifies every
 * signature with Bolt's verifySlackRequest, and the real SocketModeClient.
 */
describe("the Slack emulator", () => {
  let bot: StandInBot;
  let emulator: RunningEmulator;
  let client: WebClient;
  let channelCount = 0;
  let channel: string;

  before(async () => {
    bot = await startStandInBot(SECRET);
    emulator = await startEmulator({
      botUrl: bot.url,
      signingSecret: SECRET,
      botToken: BOT_TOKEN,
      appToken: APP_TOKEN,
      usergroups: { S0OPS: ["U0ALICE", "U0BOB"] },
      ackTimeoutMs: 1_000,
      socketPingIntervalMs: 200,
    });
    client = new WebClient(BOT_TOKEN, { slackApiUrl: emulator.apiUrl, logger: quiet });
  });

  after(async () => {
    await emulator.close();
    await bot.close();
  });

  beforeEach(() => {
    channel = `C0TEST${++channelCount}`;
    bot.received.length = 0;
    bot.answer = () => ({});
  });

  describe("Web API through WebClient", () => {
    test("auth.test names the bot user; users, usergroups and channels answer", async () => {
      const auth = await client.auth.test();
      assert.equal(auth.user_id, emulator.options.workspace.botUserId);
      assert.equal((await client.users.info({ user: "U0BOB" })).user?.name, "bob");
      assert.equal(
        platformError(await client.users.info({ user: "U0NOBODY" }).catch((e) => e)).error,
        "user_not_found",
      );
      assert.deepEqual((await client.usergroups.users.list({ usergroup: "S0OPS" })).users, [
        "U0ALICE",
        "U0BOB",
      ]);
      assert.equal((await client.conversations.info({ channel: "C0ANYTHING" })).channel?.id, "C0ANYTHING");
      assert.equal(
        platformError(await client.apiCall("chat.scheduleMessage").catch((e) => e)).error,
        "unknown_method",
      );
    });

    test("only the configured bot token is accepted", async () => {
      const stranger = new WebClient("xoxb-someone-else", {
        slackApiUrl: emulator.apiUrl,
        logLevel: LogLevel.ERROR,
      });
      assert.equal(platformError(await stranger.auth.test().catch((e) => e)).error, "invalid_auth");
    });

    test("postMessage, a threaded reply broadcast to the channel, update, ephemeral and delete", async () => {
      const parent = await client.chat.postMessage({
        channel,
        text: "incident",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "*primary down*" } }],
      });
      assert.ok(parent.ts);
      const reply = await client.chat.postMessage({ channel, thread_ts: parent.ts, text: "fenced node01" });
      const broadcast = await client.chat.postMessage({
        channel,
        thread_ts: parent.ts,
        text: "writable again",
        reply_broadcast: true,
      });
      await client.chat.update({ channel, ts: parent.ts, text: "incident: resolved" });
      const ephemeral = await client.chat.postEphemeral({ channel, user: "U0ALICE", text: "only for alice" });

      const messages = emulator.messages(channel);
      const byTs = (ts: string | undefined) => messages.find((message) => message.ts === ts);
      assert.equal(byTs(parent.ts)?.text, "incident: resolved");
      assert.equal(typeof byTs(parent.ts)?.edited, "string", "an update marks the message edited");
      assert.equal(byTs(parent.ts)?.reply_count, 2);
      assert.equal(byTs(parent.ts)?.user, emulator.options.workspace.botUserId);
      assert.equal(byTs(reply.ts)?.thread_ts, parent.ts);
      assert.equal(byTs(reply.ts)?.edited, false);
      assert.equal(byTs(broadcast.ts)?.reply_broadcast, true);
      assert.equal(byTs(ephemeral.message_ts)?.ephemeral, "U0ALICE");

      const response = await fetch(`${emulator.url}/emulator/messages?channel=${channel}&user=U0BOB`);
      const seenByBob = (await response.json()) as MessageView[];
      assert.equal(seenByBob.length, 3, "bob sees all but alice's ephemeral message");
      assert.ok(seenByBob.every((message) => message.ephemeral === undefined));

      await client.chat.delete({ channel, ts: reply.ts ?? "" });
      assert.equal(byTs(reply.ts) && emulator.messages(channel).some((m) => m.ts === reply.ts), false);
      const missing = await client.chat.update({ channel, ts: "1.000001", text: "x" }).catch((e) => e);
      assert.equal(platformError(missing).error, "message_not_found");
      assert.equal(
        platformError(await client.chat.postMessage({ channel, text: "" }).catch((e) => e)).error,
        "no_text",
      );
    });

    test("blocks over Slack's limits are invalid_blocks, naming the block", async () => {
      const error = await client.chat
        .postMessage({
          channel,
          text: "status",
          blocks: [
            { type: "header", text: { type: "plain_text", text: "Harbor" } },
            { type: "section", text: { type: "mrkdwn", text: "x".repeat(3_001) } },
          ],
        })
        .catch((e) => e);
      const data = platformError(error);
      assert.equal(data.error, "invalid_blocks");
      assert.deepEqual(data.errors, [
        "section text must be at most 3000 characters (it has 3001) [json-pointer:/blocks/1/text/text]",
      ]);
      const tooMany = Array.from({ length: 51 }, () => ({ type: "divider" }));
      const blocksError = await client.chat
        .postMessage({ channel, text: "t", blocks: tooMany })
        .catch((e) => e);
      assert.match(platformError(blocksError).errors?.[0] ?? "", /at most 50 blocks/);
      assert.equal(emulator.messages(channel).length, 0);
    });

    test("a channel's fourth message at once gets 429 with Retry-After in seconds", async () => {
      const post = (text: string, to = channel) =>
        fetch(`${emulator.apiUrl}chat.postMessage`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${BOT_TOKEN}`,
            "Content-Type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ channel: to, text }),
        });
      for (const n of [1, 2, 3]) assert.equal((await post(`burst ${n}`)).status, 200);
      const limited = await post("one too many");
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), "1");
      assert.deepEqual(await limited.json(), { ok: false, error: "ratelimited" });
      assert.equal((await post("another channel", `${channel}X`)).status, 200, "channels are limited apart");
      assert.equal(emulator.messages(channel).length, 3);
    });

    test("WebClient waits for Retry-After and its retry gets the rate-limited message through", async () => {
      const limited: number[] = [];
      client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => limited.push(seconds));
      try {
        const started = Date.now();
        const posts = await Promise.all(
          [1, 2, 3, 4].map((n) => client.chat.postMessage({ channel, text: `message ${n}` })),
        );
        assert.ok(posts.every((post) => post.ok));
        assert.deepEqual(limited, [1], "one call was refused and retried after 1 s");
        assert.ok(Date.now() - started >= 900, "the retry waited for Retry-After");
        assert.deepEqual(
          emulator
            .messages(channel)
            .map((message) => message.text)
            .sort(),
          ["message 1", "message 2", "message 3", "message 4"],
        );
      } finally {
        client.removeAllListeners(WebClientEvent.RATE_LIMITED);
      }
    });
  });

  describe("commands and clicks to the bot over HTTP", () => {
    test("a slash command arrives signed, with Slack's fields; its ack is shown to the user alone", async () => {
      bot.answer = () => ({ body: { text: "checking the cluster…" } });
      const { status, json } = await postJson(`${emulator.url}/emulator/command`, {
        channel,
        user: "U0ALICE",
        text: "/harbor status",
      });
      assert.equal(status, 200);
      const result = json as unknown as InteractionResult;
      assert.equal(result.ok, true);
      assert.equal(result.transport, "http");
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { text: "checking the cluster…" });
      assert.ok(result.latencyMs >= 0 && result.latencyMs < 1_000);

      assert.equal(bot.received.length, 1);
      const request = bot.received[0];
      assert.equal(request?.refused, undefined, "Bolt's verifySlackRequest accepts the signature");
      assert.equal(request?.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(request?.headers["x-slack-retry-num"], undefined);
      assert.deepEqual(Object.keys(request?.fields ?? {}), [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
      ]);
      assert.equal(request?.fields.command, "/harbor");
      assert.equal(request?.fields.text, "status");
      assert.equal(request?.fields.user_id, "U0ALICE");
      assert.equal(request?.fields.user_name, "alice");
      assert.equal(request?.fields.channel_id, channel);
      assert.equal(request?.fields.response_url, result.response_url);

      const shown = emulator.messages(channel);
      assert.equal(shown.length, 1);
      assert.equal(shown[0]?.text, "checking the cluster…");
      assert.equal(shown[0]?.ephemeral, "U0ALICE");
      assert.deepEqual(emulator.messages(channel, "U0BOB"), []);
    });

    test("a response_url posts in channel or ephemerally, replaces, and refuses its sixth use", async () => {
      await emulator.command({ channel, user: "U0BOB", text: "/harbor history" });
      const responseUrl = bot.received[0]?.fields.response_url ?? "";
      assert.match(responseUrl, /^http:\/\/127\.0\.0\.1:\d+\/emulator\/respond\/[0-9a-f]+$/);

      const first = await postJson(responseUrl, { text: "just for bob" });
      assert.equal(first.status, 200);
      const ephemeral = await emulator.waitForMessage(channel, (message) => message.text === "just for bob");
      assert.equal(ephemeral.ephemeral, "U0BOB");

      await postJson(responseUrl, { response_type: "in_channel", text: "history: 3 events" });
      const inChannel = await emulator.waitForMessage(
        channel,
        (message) => message.text === "history: 3 events",
      );
      assert.equal(inChannel.ephemeral, undefined);
      const forAlice = emulator.messages(channel, "U0ALICE").map((message) => message.text);
      assert.deepEqual(
        forAlice,
        ["/harbor history", "history: 3 events"],
        "the command shows before its in_channel answer",
      );

      const replaced = await postJson(responseUrl, { replace_original: true, text: "history: 4 events" });
      assert.equal(replaced.status, 200);
      assert.equal(
        emulator.messages(channel).find((message) => message.ts === inChannel.ts)?.text,
        "history: 4 events",
      );

      await postJson(responseUrl, { text: "4th", thread_ts: inChannel.ts });
      const threaded = await emulator.waitForMessage(channel, (message) => message.text === "4th");
      assert.equal(threaded.thread_ts, inChannel.ts);
      assert.equal((await postJson(responseUrl, { text: "5th" })).status, 200);
      const sixth = await postJson(responseUrl, { text: "6th" });
      assert.equal(sixth.status, 410);
      assert.equal(sixth.json.error, "used_url");
      assert.equal(
        emulator.messages(channel).some((message) => message.text === "6th"),
        false,
      );
      assert.equal((await postJson(`${emulator.url}/emulator/respond/0123abcd`, { text: "x" })).status, 404);
    });

    test("a button click arrives as a signed block_actions payload; its response_url replaces the message", async () => {
      const posted = await client.chat.postMessage({
        channel,
        text: "Approve the failover?",
        blocks: [
          { type: "section", text: { type: "mrkdwn", text: "Promote *node02*?" } },
          {
            type: "actions",
            block_id: "approval",
            elements: [
              {
                type: "button",
                action_id: "approve",
                value: "inc-7",
                style: "primary",
                text: { type: "plain_text", text: "Approve" },
              },
              {
                type: "button",
                action_id: "reject",
                value: "inc-7",
                style: "danger",
                text: { type: "plain_text", text: "Reject" },
              },
            ],
          },
        ],
      });
      const { status, json } = await postJson(`${emulator.url}/emulator/action`, {
        channel,
        user: "U0CAROL",
        message_ts: posted.ts,
        action_id: "approve",
      });
      assert.equal(status, 200);
      assert.equal(json.ok, true);
      const request = bot.received[0];
      assert.equal(request?.refused, undefined);
      const payload = request?.payload as Record<string, unknown> & {
        user: { id: string };
        container: Record<string, unknown>;
        message: { ts: string; blocks: unknown[] };
        actions: Record<string, unknown>[];
        response_url: string;
      };
      assert.equal(payload.type, "block_actions");
      assert.equal(payload.user.id, "U0CAROL");
      assert.deepEqual(payload.container, {
        type: "message",
        message_ts: posted.ts,
        channel_id: channel,
        is_ephemeral: false,
      });
      assert.equal(payload.message.ts, posted.ts);
      assert.equal(payload.message.blocks.length, 2);
      assert.equal(payload.actions.length, 1);
      assert.deepEqual(
        { ...payload.actions[0], action_ts: undefined },
        {
          type: "button",
          action_id: "approve",
          block_id: "approval",
          text: { type: "plain_text", text: "Approve", emoji: true },
          value: "inc-7",
          style: "primary",
          action_ts: undefined,
        },
      );
      assert.ok(typeof payload.trigger_id === "string" && typeof payload.api_app_id === "string");
      assert.ok(typeof (payload.team as { id?: string }).id === "string");

      await postJson(payload.response_url, { replace_original: true, text: "Approved by <@U0CAROL>" });
      const replaced = emulator.messages(channel).find((message) => message.ts === posted.ts);
      assert.equal(replaced?.text, "Approved by <@U0CAROL>");
      assert.deepEqual(replaced?.blocks, []);
      assert.equal(replaced?.edited, false, "a response_url replacement is not an edit");
    });

    test("two clicks in the same instant get their own action_ts; only a retry repeats one", async () => {
      const posted = await client.chat.postMessage({
        channel,
        text: "Approve?",
        blocks: [
          {
            type: "actions",
            block_id: "approval",
            elements: [
              {
                type: "button",
                action_id: "approve",
                value: "r-1",
                text: { type: "plain_text", text: "Approve" },
              },
            ],
          },
        ],
      });
      const click = (retries = 0) =>
        emulator.action({ channel, user: "U0BOB", messageTs: posted.ts ?? "", actionId: "approve", retries });
      await Promise.all([click(), click(1)]);
      const stamps = bot.received.map(
        (request) => (request.payload as { actions: { action_ts: string }[] }).actions[0]?.action_ts,
      );
      assert.equal(stamps.length, 3, "two clicks and one retry");
      assert.equal(new Set(stamps).size, 2, `two clicks, two stamps: ${stamps.join(", ")}`);
    });

    test("a retried command reaches the bot again, with Slack's retry headers and the same trigger_id", async () => {
      const result = await emulator.command({
        channel,
        user: "U0ALICE",
        text: "/harbor failover",
        retries: 1,
      });
      assert.equal(result.ok, true);
      assert.equal(result.retries.length, 1);
      assert.equal(bot.received.length, 2);
      const [first, retry] = bot.received;
      assert.equal(first?.headers["x-slack-retry-num"], undefined);
      assert.equal(retry?.headers["x-slack-retry-num"], "1");
      assert.equal(retry?.headers["x-slack-retry-reason"], "http_timeout");
      assert.equal(retry?.refused, undefined);
      assert.equal(retry?.fields.trigger_id, first?.fields.trigger_id);
      assert.equal(retry?.rawBody, first?.rawBody);
    });

    test("a bot too slow to ack gets Slack's operation_timeout; a refusing bot gets dispatch_failed", async () => {
      bot.answer = () => ({ delayMs: 1_500 });
      const slow = await emulator.command({ channel, user: "U0ALICE", text: "/harbor status" });
      assert.equal(slow.ok, false);
      assert.equal(slow.error, "http_timeout");
      assert.equal(slow.shown?.text, '/harbor failed with the error "operation_timeout"');
      assert.equal(slow.shown?.ephemeral, "U0ALICE");

      bot.answer = () => ({ status: 500, body: "boom" });
      const failing = await emulator.command({ channel, user: "U0ALICE", text: "/harbor status" });
      assert.equal(failing.status, 500);
      assert.equal(failing.shown?.text, '/harbor failed with the error "dispatch_failed"');
    });

    test("bad input to the emulator is a 400 that says what is wrong", async () => {
      const noSlash = await postJson(`${emulator.url}/emulator/command`, {
        channel,
        user: "U0ALICE",
        text: "status",
      });
      assert.equal(noSlash.status, 400);
      assert.equal(noSlash.json.error, "invalid_command");
      const noUser = await postJson(`${emulator.url}/emulator/command`, { channel, text: "/harbor status" });
      assert.equal(noUser.status, 400);
      assert.match(String(noUser.json.detail), /"user" is required/);
      const noMessage = await postJson(`${emulator.url}/emulator/action`, {
        channel,
        user: "U0ALICE",
        message_ts: "1.000001",
        action_id: "approve",
      });
      assert.equal(noMessage.status, 404);
      assert.equal(bot.received.length, 0);
    });
  });

  describe("Socket Mode", () => {
    test("the real SocketModeClient connects, receives a slash command envelope and acks it with a reply", async () => {
      const socket = new SocketModeClient({
        appToken: APP_TOKEN,
        clientOptions: { slackApiUrl: emulator.apiUrl },
        logLevel: LogLevel.ERROR,
        clientPingTimeout: 1_000,
        serverPingTimeout: 1_000,
      });
      const envelopes: Record<string, unknown>[] = [];
      socket.on(
        "slash_commands",
        async ({ ack, body }: { ack: (r?: object) => Promise<void>; body: Record<string, unknown> }) => {
          envelopes.push(body);
          await ack({ text: `socket ack: ${String(body.text)}` });
        },
      );
      socket.on(
        "interactive",
        async ({ ack, body }: { ack: () => Promise<void>; body: Record<string, unknown> }) => {
          envelopes.push(body);
          await ack();
        },
      );
      let reconnects = 0;
      socket.on("reconnecting", () => reconnects++);
      await socket.start();
      try {
        await emulator.waitForSocketConnections(1);
        const result = await emulator.command({ channel, user: "U0BOB", text: "/harbor status" });
        assert.equal(result.transport, "socket");
        assert.equal(result.acked, true);
        assert.equal(result.shown?.text, "socket ack: status");
        assert.equal(result.shown?.ephemeral, "U0BOB");
        assert.equal(envelopes[0]?.command, "/harbor");
        assert.equal(envelopes[0]?.user_id, "U0BOB");
        assert.equal(bot.received.length, 0, "nothing went over HTTP while the app held a socket");

        const posted = await client.chat.postMessage({
          channel,
          text: "ok?",
          blocks: [
            {
              type: "actions",
              elements: [{ type: "button", action_id: "ok", text: { type: "plain_text", text: "OK" } }],
            },
          ],
        });
        const click = await emulator.action({
          channel,
          user: "U0BOB",
          messageTs: posted.ts ?? "",
          actionId: "ok",
        });
        assert.equal(click.acked, true);
        assert.equal(envelopes[1]?.type, "block_actions");

        // With 1 s ping timeouts both ways the connection holds: the server pings and answers pings.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        assert.equal(reconnects, 0, "the connection held");

        emulator.requestSocketReconnect();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await emulator.waitForSocketConnections(1, 5_000);
        const again = await emulator.command({ channel, user: "U0BOB", text: "/harbor help" });
        assert.equal(again.shown?.text, "socket ack: help");
        assert.ok(reconnects >= 1);
      } finally {
        await socket.disconnect();
      }
    });

    test("a Socket Mode URL needs the app token, says hello, is pinged, and its ticket works once", async () => {
      const bad = await fetch(`${emulator.apiUrl}apps.connections.open`, {
        method: "POST",
        headers: { Authorization: `Bearer ${BOT_TOKEN}` },
      });
      assert.equal(((await bad.json()) as { error: string }).error, "not_allowed_token_type");
      const open = await fetch(`${emulator.apiUrl}apps.connections.open`, {
        method: "POST",
        headers: { Authorization: `Bearer ${APP_TOKEN}` },
      });
      const { url } = (await open.json()) as { url: string };
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/emulator\/socket\?ticket=/);
      const ws = new WebSocket(url);
      const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.once("message", (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
        ws.once("error", reject);
      });
      assert.equal(hello.type, "hello");
      await new Promise<void>((resolve) => ws.once("ping", () => resolve()));
      ws.close();
      const reused = new WebSocket(url);
      reused.on("error", () => {});
      const status = await new Promise<number>((resolve) => {
        reused.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
        reused.once("open", () => resolve(101));
      });
      assert.equal(status, 401);
    });
  });
});
