import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EmulatorOptionError,
  parseRateLimit,
  parseUsergroup,
  parseUsers,
} from "../../slack-emulator/options.ts";
import { CommandLineError, findButton, splitCommandLine } from "../../slack-emulator/payloads.ts";

test("--users takes ID:name pairs; a missing name is the ID in lower case", () => {
  assert.deepEqual(parseUsers("U0ALICE:alice, U0BOB"), [
    { id: "U0ALICE", name: "alice" },
    { id: "U0BOB", name: "u0bob" },
  ]);
  assert.throws(() => parseUsers("alice"), EmulatorOptionError);
  assert.throws(() => parseUsers(""), EmulatorOptionError);
});

test("--usergroup takes GROUP=USER,USER", () => {
  assert.deepEqual(parseUsergroup("S0OPS=U0ALICE,U0BOB"), ["S0OPS", ["U0ALICE", "U0BOB"]]);
  assert.throws(() => parseUsergroup("ops=alice"), /--usergroup/);
});

test("--rate-limit takes PER_SECOND[/BURST]", () => {
  assert.deepEqual(parseRateLimit("2/5"), { perSecond: 2, burst: 5 });
  assert.deepEqual(parseRateLimit("1"), { perSecond: 1, burst: 3 });
  assert.throws(() => parseRateLimit("0/1"), EmulatorOptionError);
  assert.throws(() => parseRateLimit("1/0"), EmulatorOptionError);
});

test("a slash command line splits into the command and its text", () => {
  assert.deepEqual(splitCommandLine("/harbor status"), { command: "/harbor", text: "status" });
  assert.deepEqual(splitCommandLine("  /Harbor   switchover node02 "), {
    command: "/harbor",
    text: "switchover node02",
  });
  assert.deepEqual(splitCommandLine("/harbor"), { command: "/harbor", text: "" });
  assert.throws(() => splitCommandLine("harbor status"), CommandLineError);
});

test("a button is found by action_id, in actions and as a section accessory", () => {
  const blocks = [
    {
      type: "section",
      block_id: "s1",
      text: { type: "mrkdwn", text: "x" },
      accessory: { type: "button", action_id: "more", text: { type: "plain_text", text: "More" } },
    },
    {
      type: "actions",
      block_id: "a1",
      elements: [
        {
          type: "button",
          action_id: "approve",
          value: "v1",
          style: "primary",
          text: { type: "plain_text", text: "Approve" },
        },
      ],
    },
  ];
  assert.deepEqual(findButton(blocks, "approve", undefined), {
    actionId: "approve",
    blockId: "a1",
    value: "v1",
    text: "Approve",
    style: "primary",
  });
  assert.equal(findButton(blocks, "more", "s1")?.text, "More");
  assert.equal(findButton(blocks, "approve", "s1"), undefined);
});
