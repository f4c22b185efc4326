import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { WebClient } from "@slack/web-api";
import { type Browser, chromium, type Page } from "playwright-core";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { type StandInBot, startStandInBot } from "../support/stand-in-bot.ts";

const SECRET = "page-test-secret";
const CHROMIUM = "/usr/bin/chromium";

/**
 * The channel page in a real browser (Debian's chromium, driven by playwright-core): what it
 * draws from Block Kit, threads, edits and ephemeral messages, and the command box and buttons
 * reaching a bot that checks their signatures.
 */
describe("the emulator's channel page", () => {
  let bot: StandInBot;
  let emulator: RunningEmulator;
  let browser: Browser;
  let page: Page;
  let client: WebClient;
  const channel = "C0PAGE";

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: npm test installs Debian's chromium`);
    bot = await startStandInBot(SECRET);
    emulator = await startEmulator({ botUrl: bot.url, signingSecret: SECRET, channel, rateLimit: false });
    client = new WebClient("xoxb-page", { slackApiUrl: emulator.apiUrl });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage();
    // The page must be whole by itself: any request elsewhere fails the test.
    const foreign: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(emulator.url)) foreign.push(request.url());
    });
    after(() => assert.deepEqual(foreign, [], "the page asked for nothing outside the emulator"));
    await page.goto(`${emulator.url}/?user=U0BOB`);
    await page.locator("#live-status[data-state=live]").waitFor();
  });

  after(async () => {
    await browser?.close();
    await emulator?.close();
    await bot?.close();
  });

  test("a command typed as bob reaches the bot signed; its Block Kit answer is drawn with working buttons", async () => {
    bot.answer = (request) => {
      if (request.fields.command) {
        return {
          body: {
            response_type: "in_channel",
            text: "status",
            blocks: [
              { type: "header", text: { type: "plain_text", text: "Harbor status" } },
              {
                type: "section",
                text: {
                  type: "mrkdwn",
                  text: "VIP on *node01*, see <https://runbook.test/x|the runbook> :white_check_mark:",
                },
                fields: [
                  { type: "mrkdwn", text: "*primary*\nnode01" },
                  { type: "mrkdwn", text: "*lag*\n`0 B`" },
                ],
              },
              { type: "divider" },
              { type: "context", elements: [{ type: "mrkdwn", text: "checked 1 s ago" }] },
              {
                type: "actions",
                block_id: "ops",
                elements: [
                  {
                    type: "button",
                    action_id: "switchover",
                    value: "node02",
                    style: "primary",
                    text: { type: "plain_text", text: "Switch over" },
                  },
                  {
                    type: "button",
                    action_id: "pause",
                    value: "site",
                    style: "danger",
                    text: { type: "plain_text", text: "Pause" },
                  },
                ],
              },
            ],
          },
        };
      }
      return {};
    };
    await page.locator("#user-select").selectOption("U0BOB");
    await page.locator("#command-input").fill("/harbor status");
    await page.locator("#command-input").press("Enter");
    await page.locator("#command-status[data-state=ok]").waitFor();
    assert.equal(bot.received[0]?.refused, undefined);
    assert.equal(bot.received[0]?.fields.user_id, "U0BOB");
    assert.equal(bot.received[0]?.fields.text, "status");

    const message = page.locator(".message", {
      has: page.locator(".sk-header", { hasText: "Harbor status" }),
    });
    await message.waitFor();
    assert.equal(await message.locator(".sk-text b").textContent(), "node01");
    assert.equal(await message.locator(".sk-text a").getAttribute("href"), "https://runbook.test/x");
    assert.match((await message.locator(".sk-text").textContent()) ?? "", /:white_check_mark:/);
    assert.equal(await message.locator(".sk-field").count(), 2);
    assert.equal(await message.locator(".sk-field code").textContent(), "0 B");
    assert.equal(await message.locator("hr").count(), 1);
    assert.match(
      (await message.locator("button[data-action-id=switchover]").getAttribute("class")) ?? "",
      /primary/,
    );
    assert.match(
      (await message.locator("button[data-action-id=pause]").getAttribute("class")) ?? "",
      /danger/,
    );
    await page.locator(".message", { hasText: "/harbor status" }).first().waitFor();

    const ts = await message.getAttribute("data-ts");
    bot.received.length = 0;
    await message.locator("button[data-action-id=switchover]").click();
    await page.locator("#command-status[data-state=ok]", { hasText: "click" }).waitFor();
    const click = bot.received[0];
    assert.equal(click?.refused, undefined);
    const payload = click?.payload as {
      type: string;
      user: { id: string };
      actions: { action_id: string; block_id: string; value: string }[];
      response_url: string;
    };
    assert.equal(payload.type, "block_actions");
    assert.equal(payload.user.id, "U0BOB");
    const [action] = payload.actions;
    assert.deepEqual([action?.action_id, action?.block_id, action?.value], ["switchover", "ops", "node02"]);

    await fetch(payload.response_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "Switchover to node02 approved by <@U0BOB>" }),
    });
    await page
      .locator(`.message[data-ts="${ts}"]`, { hasText: "Switchover to node02 approved by @bob" })
      .waitFor();
    assert.equal(await page.locator(`.message[data-ts="${ts}"] button[data-action-id]`).count(), 0);
  });

  test("threads fold under their parent, edits say so, ephemeral messages show only to their user", async () => {
    const parent = await client.chat.postMessage({ channel, text: "incident #12: primary down" });
    await client.chat.postMessage({ channel, thread_ts: parent.ts ?? "", text: "fenced node01" });
    await client.chat.postMessage({
      channel,
      thread_ts: parent.ts ?? "",
      text: "promoted node02",
      reply_broadcast: true,
    });
    await client.chat.update({ channel, ts: parent.ts ?? "", text: "incident #12: resolved" });
    await client.chat.postEphemeral({ channel, user: "U0ALICE", text: "for alice only" });

    const top = page.locator(`#messages > .message[data-ts="${parent.ts}"]`);
    await top.locator(".edited").waitFor();
    assert.match((await top.locator(":scope > .body").textContent()) ?? "", /resolved/);
    const toggle = top.locator(`[data-thread-toggle="${parent.ts}"]`);
    await toggle.filter({ hasText: "2 replies" }).waitFor();
    const replies = top.locator(`[data-replies-for="${parent.ts}"]`);
    assert.equal(await replies.isVisible(), false, "replies start folded");
    await toggle.click();
    await replies.locator(".message", { hasText: "fenced node01" }).waitFor();
    assert.equal(await replies.locator(".message").count(), 2);
    assert.equal(
      await page.locator("#messages > .message[data-broadcast=true]", { hasText: "promoted node02" }).count(),
      1,
    );

    assert.equal(
      await page.locator(".message", { hasText: "for alice only" }).count(),
      0,
      "bob does not see it",
    );
    await page.locator("#user-select").selectOption("U0ALICE");
    const ephemeral = page.locator(".message[data-ephemeral=U0ALICE]", { hasText: "for alice only" });
    await ephemeral.waitFor();
    assert.equal(await ephemeral.locator(".ephemeral-note").textContent(), "Only visible to you");
  });
});
