/**
 * The product seen from the channel, on the real deployed lab: `harbor-ha status`, the status
 * card, and `/harbor deploy` with approvals (nobody approves their own request; the two-person
 * rule: two other approvers; non-approvers, cancel, expiry,
 * double clicks, concurrent approvers, a bot restart between request and click, the lock), and
 * the same in a real browser. The bot is a real `harbor-ha bot` process; the emulator runs here.
 * Root needed; the lab always comes down.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { parseDocument } from "yaml";
import type { ClusterSnapshot } from "../../jobs/controller/snapshot.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { type RunningEmulator, startEmulator } from "../../slack-emulator/server.ts";
import { signedHeaders } from "../../slack-emulator/signing.ts";
import type { MessageView } from "../../slack-emulator/store.ts";
import { createLogger } from "../../support/logger.ts";
import { waitForHttp } from "../support/chat-stack.ts";
import { ownLab } from "../support/own-lab.ts";
import { type Background, botArgs, runCli, startCli } from "../support/processes.ts";
import { freePort } from "../support/redis-server.ts";

const logger = createLogger({ component: "slack-lab-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const signingSecret = "lab-test-signing-secret";
const botToken = "xoxb-lab-test";
/** Seconds a request lives here: long enough to click, short enough to watch one expire. */
const EXPIRY_MINUTES = 0.2;
let env: Record<string, string> = {};
let dir: string;
let config: string;
let emulator: RunningEmulator;
let bot: Background | undefined;
let botPort: number;

const startBot = async () => {
  const metricsPort = await freePort();
  bot = startCli(botArgs(config, botPort, metricsPort), {
    ...env,
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: emulator.apiUrl,
    HARBOR_HA_LOG_LEVEL: "info",
  });
  await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`, bot.output);
};

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
  const deployed = await runCli(["--config", paths.config, "deploy"], env, 600_000);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
  // The lab's site, with this test's approvers (who operate too: slack.operators is left out),
  // the two-person rule, its channels and a short expiry.
  dir = mkdtempSync(join(tmpdir(), "harbor-ha-slack-lab-"));
  config = join(dir, "site.yaml");
  const document = parseDocument(readFileSync(paths.config, "utf8"));
  document.setIn(["slack", "approvers"], ["U0ALICE", "U0BOB", "U0CAROL"]);
  document.deleteIn(["slack", "operators"]);
  document.setIn(["slack", "twoPersonRule"], true);
  document.setIn(
    ["slack", "changeChannels"],
    ["C0DEPLOY1", "C0DEPLOY2", "C0DEPLOY3", "C0DEPLOY4", "C0DEPLOY5", "C0BROWSERDEPLOY"],
  );
  document.setIn(["policy", "approvalExpiryMinutes"], EXPIRY_MINUTES);
  writeFileSync(config, document.toString());
  botPort = await freePort();
  emulator = await startEmulator({
    port: 0,
    botUrl: `http://127.0.0.1:${botPort}/slack/events`,
    signingSecret,
    botToken,
    users: [
      { id: "U0ALICE", name: "alice" },
      { id: "U0BOB", name: "bob" },
      { id: "U0CAROL", name: "carol" },
      { id: "U0DAVE", name: "dave" },
    ],
  });
  await startBot();
});

after(async () => {
  await bot?.stop("SIGTERM");
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await lab.down();
});

/** `harbor-ha status --json` until the snapshot satisfies `ready` (agents report every 500 ms). */
async function statusUntil(ready: (snapshot: ClusterSnapshot) => boolean): Promise<ClusterSnapshot> {
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    const result = await runCli(["--config", paths.config, "status", "--json"], env);
    last = result.stdout + result.stderr;
    const snapshot = JSON.parse(result.stdout) as ClusterSnapshot;
    if (ready(snapshot)) return snapshot;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.fail(`the snapshot never got ready:\n${last}`);
}

describe("observing the deployed lab", () => {
  test("harbor-ha status: node01 primary with the VIP, node02 streaming, a write through the VIP", async () => {
    const snapshot = await statusUntil((s) => s.overall === "healthy");
    assert.deepEqual(snapshot.vip.holders, ["node01"]);
    assert.deepEqual(snapshot.primaries, ["node01"]);
    const write = snapshot.throughVip?.postgresWrite;
    assert.equal(write?.ok && write.serverNode, "node01", "the VIP leads to node01's PostgreSQL");
    const node02 = snapshot.nodes.find((view) => view.node === "node02")?.observation?.postgres;
    assert.equal(node02?.ok && node02.role, "standby");
    assert.equal(node02?.ok && node02.walReceiver?.status, "streaming");
    const table = await runCli(["--config", paths.config, "status"], env);
    assert.equal(table.code, 0, "a healthy site exits 0");
    assert.match(table.stdout, /node01\s+10\.77\.0\.11\s+primary\s+yes/);
    assert.match(table.stdout, /node02\s+10\.77\.0\.12\s+standby\s+-/);
  });

  test("a signed /harbor status gets 200; the card names both nodes, the VIP holder and the primary", async (t) => {
    const result = await emulator.command({
      channel: "C0LABSTATUS",
      user: "U0ALICE",
      text: "/harbor status",
    });
    assert.equal(result.status, 200);
    t.diagnostic(`ack in ${result.latencyMs.toFixed(1)} ms`);
    const card = await emulator.waitForMessage("C0LABSTATUS", (m) => m.text.startsWith("lab:"), 15_000);
    const blocks = JSON.stringify(card.blocks);
    assert.match(blocks, /VIP 10\.77\.0\.100 on \*node01\* · primary \*node01\* · write through the VIP ok/);
    assert.match(blocks, /\*node01\* \(10\.77\.0\.11\) · primary/);
    assert.match(blocks, /\*node02\* \(10\.77\.0\.12\) · standby/);
    const body = "command=%2Fharbor&text=status&channel_id=C0LABSTATUS&user_id=U0EVE&trigger_id=forged";
    const forged = await fetch(`http://127.0.0.1:${botPort}/slack/events`, {
      method: "POST",
      headers: signedHeaders("not-the-secret", body, "application/x-www-form-urlencoded", Date.now()),
      body,
    });
    assert.equal(forged.status, 401);
  });
});

interface Posted {
  readonly ts: string;
  readonly id: string;
}

/** `/harbor deploy` as a user, until its plan with buttons is in the channel. */
async function requestDeploy(channel: string, user: string): Promise<Posted> {
  const result = await emulator.command({ channel, user, text: "/harbor deploy" });
  assert.equal(result.status, 200);
  const message = await emulator.waitForMessage(channel, (m) => buttonsOf(m) !== undefined, 60_000);
  const id = buttonsOf(message);
  assert.ok(id);
  return { ts: message.ts, id };
}

/** The request id on the message's Approve button, while it has one. */
function buttonsOf(message: MessageView): string | undefined {
  for (const block of message.blocks as Array<{
    type?: string;
    elements?: Array<{ action_id?: string; value?: string }>;
  }>) {
    if (block.type !== "actions") continue;
    const approve = block.elements?.find((element) => element.action_id === "approval.approve");
    if (approve?.value) return approve.value;
  }
  return undefined;
}

const click = (channel: string, posted: Posted, user: string, actionId = "approval.approve") =>
  emulator.action({
    channel,
    user,
    messageTs: posted.ts,
    actionId,
    blockId: `approval:${posted.id}`,
    value: posted.id,
  });

const toUser = (channel: string, user: string, pattern: RegExp, timeoutMs = 30_000) =>
  emulator.waitForMessage(channel, (m) => m.ephemeral === user && pattern.test(m.text), timeoutMs);

const inThread = (channel: string, ts: string) =>
  emulator.messages(channel).filter((m) => m.thread_ts === ts);

const threadEnd = (channel: string, ts: string) =>
  emulator.waitForMessage(channel, (m) => m.thread_ts === ts && /Deploy (done|FAILED)/.test(m.text), 120_000);

describe("/harbor deploy with approvals", () => {
  test("the requester's own click, a non-approver and two approvers at once: one deploy, its progress in the thread", async (t) => {
    const channel = "C0DEPLOY1";
    const posted = await requestDeploy(channel, "U0ALICE");
    await click(channel, posted, "U0ALICE");
    await toUser(channel, "U0ALICE", /You asked for this, so you cannot approve it/);
    await click(channel, posted, "U0DAVE");
    await toUser(channel, "U0DAVE", /not one of this site's approvers/);
    const clicked = performance.now();
    await Promise.all([click(channel, posted, "U0BOB"), click(channel, posted, "U0CAROL")]);
    const last = await threadEnd(channel, posted.ts);
    t.diagnostic(
      `deploy via Slack: approve -> done in ${((performance.now() - clicked) / 1000).toFixed(1)} s`,
    );
    assert.match(last.text, /Deploy done in .*: 0 changes/);
    const thread = inThread(channel, posted.ts);
    t.diagnostic(`messages in the thread: ${thread.length}; ${last.text}`);
    assert.equal(thread.filter((m) => /Deploy started/.test(m.text)).length, 1, "one deploy, not two");
    assert.ok(
      thread.some((m) => /✓|·/.test(m.text) && /postgres\.replication/.test(m.text)),
      "steps are posted",
    );
    const top = emulator.messages(channel).find((m) => m.ts === posted.ts);
    const topText = JSON.stringify(top?.blocks);
    // Both clicks count (the two-person rule): whichever came second completed the approval.
    assert.match(topText, /Approved by <@U0BOB> and <@U0CAROL>|Approved by <@U0CAROL> and <@U0BOB>/);
    assert.match(topText, /Deploy done/);
    assert.equal(top && buttonsOf(top), undefined, "the buttons are gone");
    await click(channel, posted, "U0BOB");
    await toUser(channel, "U0BOB", /already approved/);
  });

  test("a double click by one approver, and Slack's retry of it, count once; a second approver runs the deploy once", async () => {
    const channel = "C0DEPLOY2";
    const posted = await requestDeploy(channel, "U0CAROL");
    await Promise.all([
      click(channel, posted, "U0BOB"),
      emulator.action({
        channel,
        user: "U0BOB",
        messageTs: posted.ts,
        actionId: "approval.approve",
        blockId: `approval:${posted.id}`,
        value: posted.id,
        retries: 1,
      }),
    ]);
    await toUser(channel, "U0BOB", /You already approved this request/);
    assert.deepEqual(inThread(channel, posted.ts), [], "one approval runs nothing");
    await click(channel, posted, "U0ALICE");
    await threadEnd(channel, posted.ts);
    assert.equal(inThread(channel, posted.ts).filter((m) => /Deploy started/.test(m.text)).length, 1);
  });

  test("the requester cancels; an approval after that is told who cancelled", async () => {
    const channel = "C0DEPLOY3";
    const posted = await requestDeploy(channel, "U0ALICE");
    await click(channel, posted, "U0ALICE", "approval.reject");
    await emulator.waitForMessage(
      channel,
      (m) => m.ts === posted.ts && /Cancelled/.test(JSON.stringify(m.blocks)),
      15_000,
    );
    await click(channel, posted, "U0BOB");
    await toUser(channel, "U0BOB", /already rejected \(by <@U0ALICE>/);
    assert.deepEqual(inThread(channel, posted.ts), [], "nothing ran");
  });

  test("an expired request says so when clicked, and shows it", async () => {
    const channel = "C0DEPLOY4";
    const posted = await requestDeploy(channel, "U0ALICE");
    await new Promise((resolve) => setTimeout(resolve, EXPIRY_MINUTES * 60_000 + 500));
    await click(channel, posted, "U0BOB");
    await toUser(channel, "U0BOB", /expired at/);
    await emulator.waitForMessage(
      channel,
      (m) => m.ts === posted.ts && /Expired/.test(JSON.stringify(m.blocks)),
      15_000,
    );
    assert.deepEqual(inThread(channel, posted.ts), []);
  });

  test("a bot restarted between request and click still runs the approved plan, once; the lock shows the deployer", async () => {
    const channel = "C0DEPLOY5";
    const posted = await requestDeploy(channel, "U0ALICE");
    assert.equal(await bot?.stop("SIGTERM"), 0);
    await startBot();
    await click(channel, posted, "U0BOB");
    await toUser(channel, "U0BOB", /Your approval is recorded/);
    await click(channel, posted, "U0CAROL");
    await emulator.waitForMessage(
      channel,
      (m) => m.thread_ts === posted.ts && /Deploy started/.test(m.text),
      60_000,
    );
    await emulator.command({ channel, user: "U0CAROL", text: "/harbor lock" });
    const lock = await toUser(channel, "U0CAROL", /deploy lock|No deploy is running/);
    await threadEnd(channel, posted.ts);
    // The deploy may finish before the lock is read: either answer must be the truth at the time.
    assert.match(lock.text, /<@U0CAROL> holds the deploy lock since .*request|No deploy is running/);
    assert.equal(inThread(channel, posted.ts).filter((m) => /Deploy started/.test(m.text)).length, 1);
  });

  test("/harbor history lists the requests, refusals, decisions and deploys", async () => {
    await emulator.command({ channel: "C0HISTORY", user: "U0ALICE", text: "/harbor history 50" });
    const reply = await toUser("C0HISTORY", "U0ALICE", /the last \d+ audit entries/);
    const text = JSON.stringify(reply.blocks);
    for (const expected of [
      /approval\.requested deploy/,
      /approve deploy \(request [^)]+\) → \*refused: own-request\*/,
      /<@U0DAVE> approve deploy .*refused: not-approver/,
      /approve deploy .* → \*recorded: 1 of 2\*/,
      /refused: already-approved/,
      /approve deploy .* → \*approved\*/,
      /cancel deploy .* → \*rejected\*/,
      /refused: expired/,
      /deploy \(request [^)]+\) → \*ok\*/,
    ]) {
      assert.match(text, expected);
    }
  });
});

describe("the channel page in a real browser", () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox"],
    });
  });
  after(async () => {
    await browser?.close();
  });

  test("/harbor deploy typed as alice, Approve clicked as bob: the message ends in a done deploy", async () => {
    const page = await browser.newPage();
    await page.goto(`${emulator.url}/?channel=C0BROWSERDEPLOY`);
    await page.selectOption("#user-select", "U0ALICE");
    await page.fill("#command-input", "/harbor deploy");
    await page.click("#command-send");
    const approve = page.locator('button[data-action-id="approval.approve"]');
    await approve.waitFor({ timeout: 60_000 });
    await page.selectOption("#user-select", "U0BOB");
    await approve.click();
    await page.locator("[data-ts]", { hasText: "Approved so far by" }).first().waitFor({ timeout: 30_000 });
    await page.selectOption("#user-select", "U0CAROL");
    await page.locator('button[data-action-id="approval.approve"]').click();
    await page.locator("[data-ts]", { hasText: "Deploy done" }).first().waitFor({ timeout: 120_000 });
    assert.equal(
      await page.locator('button[data-action-id="approval.approve"]').count(),
      0,
      "the buttons are gone",
    );
    assert.match(
      await page.locator("[data-ts]", { hasText: "Approved by" }).first().innerText(),
      /bob|U0BOB/,
    );
  });
});
