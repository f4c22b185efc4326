import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { type ChatStack, startChatStack } from "../support/chat-stack.ts";

/** Debian's chromium (npm test installs it); playwright-core drives it, headless, on loopback only. */
const CHROMIUM = "/usr/bin/chromium";

/**
 * The channel page in a real browser, as an operator uses it: type `/harbor status` in the
 * command box and see the bot's status card with both nodes.
 */
describe("the emulator's channel page in a real browser", () => {
  let stack: ChatStack;
  let browser: Browser;

  before(async () => {
    stack = await startChatStack({ site: "browsertest" });
    // Root needs --no-sandbox; nothing else leaves this machine (the page has no external assets).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("typing /harbor status shows the status card with both nodes, posted by the bot", async () => {
    const page = await browser.newPage();
    const failedRequests: string[] = [];
    page.on("requestfailed", (request) => failedRequests.push(request.url()));
    await page.goto(`${stack.emulator.url}/?channel=C0BROWSER`);
    await page.selectOption("#user-select", "U0BOB");
    await page.fill("#command-input", "/harbor status");
    await page.click("#command-send");
    const card = page.locator("[data-ts]", { hasText: "browsertest:" }).first();
    await card.waitFor({ timeout: 15_000 });
    const text = await card.innerText();
    assert.match(text, /node01/);
    assert.match(text, /node02/);
    assert.match(text, /primary/);
    assert.match(text, /standby/);
    // The page renders what the channel holds: the same card as the emulator's store.
    const stored = stack.emulator
      .messages("C0BROWSER")
      .filter((message) => message.text.startsWith("browsertest:"));
    assert.equal(stored.length, 1);
    assert.equal(await page.locator(`[data-ts="${stored[0]?.ts}"]`).count(), 1);
    assert.deepEqual(failedRequests, []);
  });
});
