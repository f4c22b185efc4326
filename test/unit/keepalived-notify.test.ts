import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { keepalivedLayout } from "../../jobs/deploy/keepalived-conf.ts";
import { describeState, parseStateLine, renderNotifyScript } from "../../jobs/deploy/keepalived-notify.ts";

const execFileAsync = promisify(execFile);

describe("keepalived's notify script", () => {
  test("is a /bin/sh script that names the node's state file and history", () => {
    const script = renderNotifyScript(keepalivedLayout("/var/lib/harbor-ha/keepalived"));
    assert.ok(script.startsWith("#!/bin/sh\n"));
    assert.match(script, /state_file='\/var\/lib\/harbor-ha\/keepalived\/state'/);
    assert.match(script, /history='\/var\/lib\/harbor-ha\/keepalived\/transitions\.log'/);
    assert.doesNotMatch(script, /bash|\[\[/, "only what dash has");
  });

  // The one test here that runs something: the script's output is the parser's input.
  test("run by sh with keepalived's arguments, records each change the parser reads back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keepalived-notify-"));
    try {
      const layout = keepalivedLayout(dir);
      await writeFile(layout.notifyScript, renderNotifyScript(layout), { mode: 0o755 });
      await execFileAsync("/bin/sh", [layout.notifyScript, "INSTANCE", "harbor_vip", "BACKUP", "100"]);
      await execFileAsync("/bin/sh", [layout.notifyScript, "INSTANCE", "harbor_vip", "MASTER", "150"]);
      const record = parseStateLine(await readFile(layout.stateFile, "utf8"));
      assert.equal(record?.state, "MASTER");
      assert.equal(record?.instance, "harbor_vip");
      assert.equal(record?.priority, 150);
      assert.ok(Math.abs(Date.parse(record?.at ?? "") - Date.now()) < 60_000, "stamped with the time now");
      const history = (await readFile(layout.transitionsLog, "utf8")).trim().split("\n");
      assert.deepEqual(
        history.map((line) => parseStateLine(line)?.state),
        ["BACKUP", "MASTER"],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("reading the state file", () => {
  test("reads state, time, instance and priority", () => {
    assert.deepEqual(parseStateLine("STOP 2026-11-25T17:30:52.494Z INSTANCE harbor_vip 150\n"), {
      state: "STOP",
      at: "2026-11-25T17:30:52.494Z",
      instance: "harbor_vip",
      priority: 150,
    });
  });

  test("takes the last line of a history", () => {
    const history = [
      "BACKUP 2026-11-25T17:30:15.109Z INSTANCE harbor_vip 150",
      "MASTER 2026-11-25T17:30:18.510Z INSTANCE harbor_vip 150",
      "",
    ].join("\n");
    assert.equal(parseStateLine(history)?.state, "MASTER");
  });

  test("reads a missing, empty or garbled file as no state", () => {
    assert.equal(parseStateLine(undefined), undefined);
    assert.equal(parseStateLine(""), undefined);
    assert.equal(parseStateLine("MASTER"), undefined);
    assert.equal(parseStateLine("SLEEPING 2026-11-25T17:30:18.510Z INSTANCE harbor_vip 150"), undefined);
    assert.equal(parseStateLine("MASTER yesterday INSTANCE harbor_vip 150"), undefined);
    assert.equal(parseStateLine("MASTER 2026-11-25T17:30:18.510Z GROUP harbor_vip 150"), undefined);
  });

  test("describes a state for a report line", () => {
    const record = parseStateLine("BACKUP 2026-11-25T17:30:15.109Z INSTANCE harbor_vip 100");
    assert.equal(describeState(record), "BACKUP since 2026-11-25T17:30:15.109Z (priority 100)");
    assert.equal(describeState(undefined), "none recorded");
  });
});
