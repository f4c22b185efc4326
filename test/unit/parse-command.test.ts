import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseCommand } from "../../bot/commands/parse-command.ts";

const refusal = (text: string) => {
  const parsed = parseCommand(text);
  assert.equal(parsed.ok, false, text);
  return parsed.ok ? "" : parsed.reply;
};

describe("/harbor's text", () => {
  test("each verb with its arguments", () => {
    assert.deepEqual(parseCommand(""), { ok: true, verb: "help" });
    assert.deepEqual(parseCommand("  HELP  status "), { ok: true, verb: "help", topic: "status" });
    assert.deepEqual(parseCommand("status"), { ok: true, verb: "status" });
    assert.deepEqual(parseCommand("history"), { ok: true, verb: "history", count: 10 });
    assert.deepEqual(parseCommand("history 50"), { ok: true, verb: "history", count: 50 });
    assert.deepEqual(parseCommand("deploy"), { ok: true, verb: "deploy", dryRun: false });
    assert.deepEqual(parseCommand("deploy --dry-run --harbor-version 2.3.0"), {
      ok: true,
      verb: "deploy",
      dryRun: true,
      harborVersion: "2.3.0",
    });
    assert.deepEqual(parseCommand("lock"), { ok: true, verb: "lock" });
  });

  test("an unknown verb is named back, harmlessly, with the usage", () => {
    const reply = refusal("<!channel> *reboot*");
    assert.match(reply, /^Unknown command `!channel`\./);
    assert.match(reply, /Usage:\n`\/harbor help \[verb\]`/);
  });

  test("bad arguments name the problem and the verb's usage", () => {
    assert.match(
      refusal("history 0"),
      /N must be a whole number from 1 to 50, not `0`.\nUsage: `\/harbor history \[N\]`/,
    );
    assert.match(refusal("history 51"), /not `51`/);
    assert.match(refusal("status now"), /`status` takes no arguments/);
    assert.match(
      refusal("deploy --harbor-version latest"),
      /--harbor-version needs a version such as 2\.2\.2, not `latest`/,
    );
    assert.match(refusal("deploy --harbor-version"), /not `nothing`/);
    assert.match(refusal("deploy --dry-run --dry-run"), /`deploy` does not take `--dry-run`/);
    assert.match(refusal("deploy --force"), /does not take `--force`/);
    assert.match(refusal("help reboot"), /No help for `reboot`/);
  });

  test("text over the limit is refused before it is read", () => {
    assert.match(refusal(`status ${"x".repeat(600)}`), /607 characters long; the limit is 500/);
  });
});
