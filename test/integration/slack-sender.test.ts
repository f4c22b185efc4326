import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebClient } from "@slack/web-api";
import { SlackSender } from "../../bot/slack-sender.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { createLogger } from "../../support/logger.ts";

/**
 * The bot's one sender against the emulator's Slack rules: a burst to one channel is paced or,
 * when refused with 429, sent again after Retry-After; every message arrives exactly once.
 */
describe("the Slack sender and Slack's rate limit", () => {
  let emulator: RunningEmulator;
  const logs: string[] = [];
  const logger = createLogger({
    component: "sender-test",
    level: "warn",
    destination: { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream,
  });
  // The client as the bot makes it: no retries of its own, rate limits reported to the sender.
  const client = () =>
    new WebClient("xoxb-sender", {
      slackApiUrl: emulator.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });

  before(async () => {
    emulator = await startEmulator({
      port: 0,
      botToken: "xoxb-sender",
      rateLimit: { perSecond: 1, burst: 3 },
    });
  });

  after(async () => {
    await emulator?.close();
  });

  test("without pacing, a burst of 6 is refused with 429 past the burst, sent again, and lands once each, in order", async () => {
    const sender = new SlackSender(client(), logger, { channelSpacingMs: 0 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => sender.post("C0BURST", { text: `alert ${i}` })));
    assert.deepEqual(
      emulator.messages("C0BURST").map((m) => m.text),
      ["alert 0", "alert 1", "alert 2", "alert 3", "alert 4", "alert 5"],
    );
    assert.ok(
      logs.some((line) => /"event":"slack.retry".*"method":"chat.postMessage"/.test(line)),
      "it was refused and retried",
    );
  });

  test("paced at one a second per channel, the same burst is never refused; other channels do not wait", async () => {
    logs.length = 0;
    const sender = new SlackSender(client(), logger);
    const other = sender.post("C0OTHER", { text: "elsewhere" });
    await Promise.all(Array.from({ length: 4 }, (_, i) => sender.post("C0PACED", { text: `paced ${i}` })));
    await other;
    assert.equal(emulator.messages("C0PACED").length, 4);
    assert.equal(emulator.messages("C0OTHER").length, 1);
    assert.deepEqual(
      logs.filter((line) => /slack.retry/.test(line)),
      [],
      "no 429 at Slack's pace",
    );
  });

  test("an error that is not a rate limit (a bad channel token) is not sent again", async () => {
    logs.length = 0;
    const sender = new SlackSender(
      new WebClient("xoxb-wrong", { slackApiUrl: emulator.apiUrl, retryConfig: { retries: 0 } }),
      logger,
    );
    await assert.rejects(sender.post("C0NOPE", { text: "x" }), /invalid_auth/);
    assert.deepEqual(
      logs.filter((line) => /slack.retry/.test(line)),
      [],
    );
    assert.deepEqual(emulator.messages("C0NOPE"), []);
  });
});
