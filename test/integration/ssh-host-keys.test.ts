/**
 * Host key pinning against a real OpenSSH sshd on loopback: the pinned key connects, any other
 * key and an unpinned one are refused before authentication, recording writes only keys nothing
 * pins, and the SSH fence over a refused key is never counted as done.
 */

import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSiteConfig } from "../../config/load.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { connectSsh } from "../../jobs/adapters/remote-shell.ts";
import { assertAllPinned, surveyHostKeys } from "../../jobs/adapters/ssh-host-key-survey.ts";
import { ActionRunner } from "../../jobs/controller/action-runner.ts";
import { fenceOverSsh } from "../../jobs/controller/ssh-fence.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { type HarborHaError, isHarborHaError } from "../../support/errors.ts";
import { runCli } from "../support/processes.ts";
import { freePort, startTestRedis, type TestRedis } from "../support/redis-server.ts";
import { loopbackSiteYaml } from "../support/site-fixtures.ts";
import { keygenFingerprint, newSshKey, startTestSshd, type TestSshd } from "../support/test-sshd.ts";

const ADDRESS = "127.77.0.11";
const dir = mkdtempSync(join(tmpdir(), "harbor-ha-sshd-"));
const clientKey = newSshKey(dir, "id_ed25519");
const hostKey = newSshKey(dir, "host_key");
const impostorKey = newSshKey(dir, "impostor_host_key");
const hostFingerprint = keygenFingerprint(hostKey);
const impostorFingerprint = keygenFingerprint(impostorKey);
/** The sessions' docker: records its calls and reports every container stopped (the fence's proof). */
const standInBin = join(dir, "bin");
const dockerCalls = join(dir, "docker-calls");
mkdirSync(standInBin);
writeFileSync(
  join(standInBin, "docker"),
  `#!/bin/sh\necho "$*" >> ${dockerCalls}\ncase "$*" in *inspect*) echo false;; esac\n`,
);
chmodSync(join(standInBin, "docker"), 0o755);
let sshd: TestSshd;
let redis: TestRedis;
let port: number;

before(async () => {
  redis = await startTestRedis();
  port = await freePort();
  sshd = await startTestSshd({
    dir,
    address: ADDRESS,
    port,
    hostKeyFile: hostKey,
    clientKeyFile: clientKey,
    path: `${standInBin}:/usr/bin:/bin`,
  });
});

after(async () => {
  await sshd?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The loopback site with node01 on the test's sshd, pinned as given (undefined: not pinned that way). */
function siteWith(pins: { hostKey?: string; knownHostsFile?: string }): { site: SiteConfig; file: string } {
  const text = loopbackSiteYaml("ssh-test", redis.url, [
    [["nodes", 0, "ssh", "port"], port],
    [["nodes", 0, "ssh", "keyFile"], clientKey],
    [["nodes", 0, "ssh", "hostKey"], pins.hostKey],
    [["nodes", 0, "ssh", "knownHostsFile"], pins.knownHostsFile],
    // Whatever the fence script's docker reaches, it is no daemon of this machine.
    [["nodes", 0, "dockerSocket"], join(dir, "no-docker.sock")],
    [["policy", "probeIntervalMs"], 100],
    [["policy", "primaryLeaseMs"], 1_000],
  ]);
  const file = join(dir, `site-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return { site: parseSiteConfig(text, file).site, file };
}

const node01 = (site: SiteConfig) => {
  const node = site.nodes[0];
  assert.ok(node);
  return node;
};

async function refusal(site: SiteConfig): Promise<HarborHaError> {
  try {
    const shell = await connectSsh(node01(site), 5_000);
    await shell.close();
  } catch (error) {
    assert.ok(isHarborHaError(error), String(error));
    return error;
  }
  assert.fail("the connection was accepted");
}

describe("connecting", () => {
  test("the pinned host key connects and runs a command, stdin included", async () => {
    const shell = await connectSsh(node01(siteWith({ hostKey: hostFingerprint }).site));
    try {
      const result = await shell.run('cat; echo " as $(id -un)"', { stdin: "secret over stdin" });
      assert.equal(result.code, 0);
      assert.equal(result.stdout, "secret over stdin as root");
    } finally {
      await shell.close();
    }
  });

  test("a command that hangs is given up after its timeout, naming the node, and the connection closed", async () => {
    const shell = await connectSsh(node01(siteWith({ hostKey: hostFingerprint }).site));
    try {
      await assert.rejects(shell.run("sleep 30", { timeoutMs: 300 }), (error: Error & { code?: string }) => {
        assert.equal(error.code, "SSH_COMMAND_TIMEOUT");
        assert.match(error.message, /sleep on node01 did not finish within 300 ms/);
        return true;
      });
      await assert.rejects(shell.run("true"), "the connection was closed with it");
    } finally {
      await shell.close();
    }
  });

  test("a known_hosts file pins it as well, hashed by ssh-keygen -H or not", async () => {
    const knownHosts = join(dir, "known_hosts_plain");
    const line = `[${ADDRESS}]:${port} ${readFileSync(`${hostKey}.pub`, "utf8")}`;
    writeFileSync(knownHosts, `# pinned by hand\n${line}`);
    const plain = await connectSsh(node01(siteWith({ knownHostsFile: knownHosts }).site));
    assert.equal((await plain.run("echo ok")).stdout, "ok");
    await plain.close();
    const { execFileSync } = await import("node:child_process");
    execFileSync("ssh-keygen", ["-q", "-H", "-f", knownHosts]);
    assert.doesNotMatch(readFileSync(knownHosts, "utf8"), /127\.77/, "ssh-keygen hashed the name");
    const hashed = await connectSsh(node01(siteWith({ knownHostsFile: knownHosts }).site));
    assert.equal((await hashed.run("echo ok")).stdout, "ok");
    await hashed.close();
  });

  test("another host key is refused before authentication, naming the node, the expected and the seen fingerprint", async () => {
    const logBefore = sshd.output().length;
    const error = await refusal(siteWith({ hostKey: impostorFingerprint }).site);
    assert.equal(error.code, "SSH_HOST_KEY_MISMATCH");
    assert.match(error.message, /host key mismatch for node01 \(127\.77\.0\.11:\d+\)/);
    assert.ok(error.message.includes(`expected ${impostorFingerprint}`), error.message);
    assert.ok(error.message.includes(`seen ${hostFingerprint}`), error.message);
    assert.match(error.hint, /check the host[\s\S]*update nodes\[node01\]\.ssh\.hostKey/);
    assert.doesNotMatch(sshd.output().slice(logBefore), /Accepted publickey/, "no login happened");
  });

  test("a node that nothing pins is refused: no trust on first use", async () => {
    const error = await refusal(siteWith({ knownHostsFile: join(dir, "absent_known_hosts") }).site);
    assert.equal(error.code, "SSH_HOST_KEY_UNKNOWN");
    assert.ok(error.message.includes(`seen ${hostFingerprint}`), error.message);
    assert.match(error.hint, /set nodes\[node01\]\.ssh\.hostKey/);
    const neither = await refusal(siteWith({}).site);
    assert.equal(neither.code, "SSH_HOST_KEY_UNKNOWN");
    assert.match(neither.message, /nothing \(no ssh\.hostKey, no ssh\.knownHostsFile\)/);
  });
});

describe("recording host keys", () => {
  test("records a key nothing pins (file made 0600), then refuses a different key and changes nothing", async (t) => {
    const knownHosts = join(dir, "recorded", "known_hosts");
    const { site, file } = siteWith({ knownHostsFile: knownHosts });
    const first = await surveyHostKeys(site, true);
    assert.equal(first[0]?.status, "recorded");
    assert.equal(first[0]?.fingerprint, hostFingerprint);
    assert.equal(statSync(knownHosts).mode & 0o777, 0o600);
    const recorded = readFileSync(knownHosts, "utf8");
    assert.ok(recorded.startsWith(`[${ADDRESS}]:${port} ssh-ed25519 `), recorded);
    const shell = await connectSsh(node01(site));
    await shell.close();
    assert.equal((await surveyHostKeys(site, true))[0]?.status, "pinned", "recording twice is a no-op");
    assert.equal(readFileSync(knownHosts, "utf8"), recorded);

    await sshd.restartWithHostKey(impostorKey);
    t.after(() => sshd.restartWithHostKey(hostKey));
    const second = await surveyHostKeys(site, true);
    assert.equal(second[0]?.status, "mismatch");
    assert.equal(readFileSync(knownHosts, "utf8"), recorded, "the pinned line is not replaced");
    assert.throws(() => assertAllPinned(second), { code: "SSH_HOST_KEY_MISMATCH" });
    assert.equal((await refusal(site)).code, "SSH_HOST_KEY_MISMATCH");

    const secrets = {
      HARBOR_HA_PG_PASSWORD: "pg",
      HARBOR_HA_REPLICATION_PASSWORD: "repl",
      HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin",
    };
    const cliRecord = await runCli(["--config", file, "deploy", "--record-host-keys", "--dry-run"], secrets);
    assert.equal(cliRecord.code, 1, `${cliRecord.code}\n${cliRecord.stdout}\n${cliRecord.stderr}`);
    assert.ok(cliRecord.stdout.includes(`ssh-ed25519 ${impostorFingerprint}  MISMATCH`), cliRecord.stdout);
    assert.match(cliRecord.stderr, /host keys not recorded: node01: host key mismatch/);
    assert.doesNotMatch(cliRecord.stdout, /host\.docker/, "no deploy step ran");
    const shown = await runCli(["--config", file, "nodes", "host-keys"]);
    assert.equal(shown.code, 1);
    assert.match(
      shown.stdout,
      new RegExp(`node01 .* ${impostorFingerprint.replaceAll("+", "\\+")}  MISMATCH`),
    );
    assert.equal(readFileSync(knownHosts, "utf8"), recorded);
  });
});

describe("the SSH fence", () => {
  test("with the pinned key it fences; with another key nothing runs, it is not fenced and says host key mismatch", async () => {
    const fenced = await fenceOverSsh(node01(siteWith({ hostKey: hostFingerprint }).site));
    assert.equal(fenced.ok, true, fenced.detail);
    assert.match(readFileSync(dockerCalls, "utf8"), /stop --time 10 keepalived-node01/);
    rmSync(dockerCalls);
    const refused = await fenceOverSsh(node01(siteWith({ hostKey: impostorFingerprint }).site));
    assert.equal(refused.ok, false);
    assert.match(
      refused.detail,
      /not fenced: node01's agent is silent and SSH was refused: host key mismatch for node01/,
    );
    assert.equal(existsSync(dockerCalls), false, "the fence script never ran");
  });

  test("the fence without an agent still falls back to the primary lease: fenced only once it has run out", async () => {
    const { site } = siteWith({ hostKey: impostorFingerprint });
    // The node is silent: no job is sent, so any key will do.
    const jobs = new NodeJobs(site, siteKeyFromText(renderSiteKey(), "test"), { role: "controller" });
    const context = { fencingToken: 1, planId: "host-key", silentNodes: new Set(["node01"]) };
    const action = { kind: "fence", node: "node01" } as const;
    try {
      const expired = await new ActionRunner(site, jobs, undefined, async () => -2).run(action, context, 0);
      assert.equal(expired.ok, true);
      assert.match(expired.detail, /host key mismatch[\s\S]*primary lease has run out/);
      const renewed = await new ActionRunner(site, jobs, undefined, async () => 900).run(action, context, 0);
      assert.equal(renewed.ok, false);
      assert.match(renewed.detail, /host key mismatch[\s\S]*primary lease is still being renewed/);
    } finally {
      await jobs.close();
    }
  });
});
