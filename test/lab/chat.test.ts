/**
 * The product seen from the channel, on the real lab: after a deploy, the agents' observations
 * and the controller's checks through the VIP reach `harbor-ha status` and the Slack card. The
 * bot and the emulator are the demo's (startDemoChat). Root needed; the lab always comes down.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type DemoChat, startDemoChat } from "../../cli/demo-chat.ts";
import { siteInputs } from "../../cli/site-option.ts";
import { loadSiteConfig } from "../../config/load.ts";
import type { ClusterSnapshot } from "../../jobs/controller/snapshot.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { signedHeaders } from "../../slack-emulator/signing.ts";
import { createLogger } from "../../support/logger.ts";
import { ownLab } from "../support/own-lab.ts";
import { runCli } from "../support/processes.ts";
import { freePort } from "../support/redis-server.ts";

const logger = createLogger({ component: "chat-lab-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
let env: Record<string, string> = {};
let chat: DemoChat | undefined;

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
  const deployed = await runCli(["--config", paths.config, "deploy"], env, 600_000);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
});

after(async () => {
  await chat?.stop();
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

test("harbor-ha status shows node01 primary with the VIP, node02 streaming, and a write through the VIP", async () => {
  const snapshot = await statusUntil((s) => s.overall === "healthy");
  assert.deepEqual(snapshot.vip.holders, ["node01"]);
  assert.deepEqual(snapshot.primaries, ["node01"]);
  assert.equal(snapshot.throughVip?.postgresWrite.ok, true);
  const write = snapshot.throughVip?.postgresWrite;
  assert.equal(write?.ok && write.serverAddress, "10.77.0.11", "the VIP leads to node01's PostgreSQL");
  const node02 = snapshot.nodes.find((view) => view.node === "node02")?.observation?.postgres;
  assert.equal(node02?.ok && node02.role, "standby");
  assert.equal(node02?.ok && node02.walReceiver?.status, "streaming");
  const table = await runCli(["--config", paths.config, "status"], env);
  assert.equal(table.code, 0, "a healthy site exits 0");
  assert.match(table.stdout, /node01\s+10\.77\.0\.11\s+primary\s+yes/);
  assert.match(table.stdout, /node02\s+10\.77\.0\.12\s+standby\s+-/);
});

test("a signed /harbor status is answered 200 and the card names both nodes, the VIP holder and the primary", async (t) => {
  const { site } = await loadSiteConfig(paths.config);
  chat = await startDemoChat({
    site,
    inputs: await siteInputs(await loadSiteConfig(paths.config), env),
    logger,
    emulatorPort: await freePort(),
    botPort: await freePort(),
  });
  const emulatorUrl = chat.pageUrl.replace(/\/$/, "");
  const command = await fetch(`${emulatorUrl}/emulator/command`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel: "C0LABCHAT", user: "U0ALICE", text: "/harbor status" }),
  });
  const delivery = (await command.json()) as { status: number; latencyMs: number };
  assert.equal(delivery.status, 200);
  t.diagnostic(`ack in ${delivery.latencyMs.toFixed(1)} ms`);
  const deadline = Date.now() + 15_000;
  let card: { text: string; blocks: unknown[] } | undefined;
  while (!card && Date.now() < deadline) {
    const messages = (await (
      await fetch(`${emulatorUrl}/emulator/messages?channel=C0LABCHAT`)
    ).json()) as Array<{
      text: string;
      blocks: unknown[];
    }>;
    card = messages.find((message) => message.text.startsWith(`${site.site}:`));
    if (!card) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(card, "the status card reached the channel");
  const blocks = JSON.stringify(card.blocks);
  assert.match(blocks, /VIP 10\.77\.0\.100 on \*node01\* · primary \*node01\* · write through the VIP ok/);
  assert.match(blocks, /\*node01\* \(10\.77\.0\.11\) · primary/);
  assert.match(blocks, /\*node02\* \(10\.77\.0\.12\) · standby/);

  // The same endpoint refuses a forged signature and a stale timestamp.
  const body = "command=%2Fharbor&text=status&channel_id=C0LABCHAT&user_id=U0EVE&trigger_id=forged";
  for (const [secret, at] of [
    ["not-the-secret", Date.now()],
    ["not-the-secret", Date.now() - 10 * 60_000],
  ] as const) {
    const response = await fetch(chat.botUrl, {
      method: "POST",
      headers: signedHeaders(secret, body, "application/x-www-form-urlencoded", at),
      body,
    });
    assert.equal(response.status, 401);
  }
});
