import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { siteSchema } from "../../config/schema.ts";
import { fencedBySsh, sshFenceScript } from "../../jobs/controller/ssh-fence.ts";
import { exampleSiteYaml } from "../support/site-fixtures.ts";

const node = siteSchema.parse(parse(exampleSiteYaml())).nodes[0];

test("the SSH fence is fenced only when neither keepalived nor PostgreSQL runs", () => {
  assert.equal(fencedBySsh("keepalived=false\npostgres=false\n"), true);
  assert.equal(fencedBySsh("keepalived=absent\npostgres=false\n"), true);
  assert.equal(fencedBySsh("keepalived=false\npostgres=true\n"), false);
  assert.equal(fencedBySsh("ssh: connect to host refused"), false);
});

test("the script, run by sh against a stand-in docker, stops keepalived, disables the restart policy, and stops PostgreSQL", () => {
  assert.ok(node);
  const dir = mkdtempSync(join(tmpdir(), "harbor-ha-fence-"));
  try {
    // A docker that records its calls and reports both containers stopped.
    const calls = join(dir, "calls");
    writeFileSync(
      join(dir, "docker"),
      `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in *inspect*) echo false;; esac\n`,
    );
    chmodSync(join(dir, "docker"), 0o755);
    const output = execFileSync("sh", ["-c", sshFenceScript(node)], {
      env: { PATH: `${dir}:/usr/bin:/bin` },
    }).toString();
    assert.equal(fencedBySsh(output), true);
    const recorded = readFileSync(calls, "utf8");
    assert.match(recorded, /--host unix:\/\/\/var\/run\/docker.sock update --restart=no pg-node01/);
    assert.match(recorded, /stop --time 10 keepalived-node01/);
    assert.match(recorded, /kill --signal SIGINT pg-node01/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
