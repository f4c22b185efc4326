/**
 * `harbor-ha deploy` on the real lab, end to end: a failure that stops the deploy, the full
 * deploy, the site it leaves (VIP, primary, standby, Harbor, client access), and a second run
 * that changes nothing. Root needed; the lab comes down even when an assertion fails.
 */

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import Docker from "dockerode";
import type { Redis } from "ioredis";
import type pg from "pg";
import { stringify } from "yaml";
import { loadSiteConfig } from "../../config/load.ts";
import { isSealedRecord } from "../../config/site-key-seal.ts";
import { COMPONENT_LABEL } from "../../jobs/adapters/containers.ts";
import { fenceOverSsh } from "../../jobs/controller/ssh-fence.ts";
import { harborNodeLayout } from "../../jobs/deploy/harbor-layout.ts";
import { harborSecretFiles } from "../../jobs/deploy/harbor-secrets.ts";
import { harborSecretsKey } from "../../jobs/deploy/harbor-secrets-store.ts";
import { labPaths, labUp, readEnvFile } from "../../lab/index.ts";
import { sshAnswers } from "../../lab/probes.ts";
import { isAlive } from "../../lab/processes.ts";
import { sshdConfig } from "../../lab/sshd.ts";
import { readState } from "../../lab/state.ts";
import { labTopology } from "../../lab/topology.ts";
import { createLogger } from "../../support/logger.ts";
import { labQuery } from "../support/lab-postgres.ts";
import { openLabRedis } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";
import { runCli } from "../support/processes.ts";
import { keygenFingerprint, newSshKey } from "../support/test-sshd.ts";
import { vipHolders } from "../support/vip.ts";

const execFileAsync = promisify(execFile);
const logger = createLogger({ component: "deploy-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const VIP = "10.77.0.100";
const DEPLOY_TIMEOUT_MS = 600_000;
/** Files the tests write outside the lab (variant configs, a stray key), removed at the end. */
const scratch: string[] = [];
let env: Record<string, string> = {};

const deploy = (...args: string[]) =>
  runCli(["--config", paths.config, "deploy", ...args], env, DEPLOY_TIMEOUT_MS);

const query = <T extends pg.QueryResultRow>(host: string, sql: string) =>
  labQuery<T>(host, sql, { password: env.HARBOR_HA_PG_PASSWORD });

/** Every value of every key, whatever its type: where a leaked secret would be. */
async function allRedisValues(redis: Redis): Promise<string[]> {
  const values: string[] = [];
  // SCAN, not KEYS: the controller's ACL user may not run KEYS (@dangerous), as no role may.
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ count: 1_000 })) keys.push(...(batch as string[]));
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === "string") values.push((await redis.get(key)) ?? "");
    else if (type === "hash") values.push(...Object.values(await redis.hgetall(key)));
    else if (type === "list") values.push(...(await redis.lrange(key, 0, -1)));
    else if (type === "set") values.push(...(await redis.smembers(key)));
    else if (type === "zset") values.push(...(await redis.zrange(key, "0", "-1")));
    else if (type === "stream") values.push(...(await redis.xrange(key, "-", "+")).flatMap(([, f]) => f));
  }
  return values;
}

async function httpGet(url: string, auth?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
});

after(async () => {
  for (const file of scratch) rmSync(file, { force: true });
  await lab.down();
});

test("a missing SSH key, a wrong one and an unreachable SSH port each get their own clear message", async () => {
  const { site } = await loadSiteConfig(paths.config);
  const variant = (change: (node: (typeof site.nodes)[number]) => object) => {
    const file = join(
      tmpdir(),
      `harbor-ha-deploy-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`,
    );
    writeFileSync(
      file,
      stringify({ ...site, nodes: site.nodes.map((node) => ({ ...node, ...change(node) })) }),
    );
    return file;
  };
  const noKey = await runCli(
    [
      "--config",
      variant((node) => ({ ssh: { ...node.ssh, keyFile: "/nonexistent/id_ed25519" } })),
      "deploy",
      "--dry-run",
    ],
    env,
  );
  assert.equal(noKey.code, 1);
  assert.match(noKey.stdout, /host\.docker: failed — the SSH key \/nonexistent\/id_ed25519 cannot be read/);
  const otherKey = join(tmpdir(), `harbor-ha-deploy-key-${process.pid}`);
  scratch.push(otherKey, `${otherKey}.pub`);
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
  const wrongKey = await runCli(
    ["--config", variant((node) => ({ ssh: { ...node.ssh, keyFile: otherKey } })), "deploy", "--dry-run"],
    env,
  );
  assert.equal(wrongKey.code, 1);
  assert.match(
    wrongKey.stdout,
    new RegExp(`root@10\\.77\\.0\\.11:22 refused the key ${otherKey}[\\s\\S]*hint: check nodes`),
  );
  const badPort = await runCli(
    ["--config", variant((node) => ({ ssh: { ...node.ssh, port: 2222 } })), "deploy", "--dry-run"],
    env,
  );
  assert.equal(badPort.code, 1);
  assert.match(
    badPort.stdout,
    /root@10\.77\.0\.11:2222 is unreachable[\s\S]*hint: is the node up and sshd listening on port 2222/,
  );
});

test("a node whose sshd presents another host key is refused by deploy's SSH step and by the SSH fence", async (t) => {
  const node02 = labTopology(2).nodes[1];
  assert.ok(node02);
  const nodePaths = paths.node("node02");
  const expected = keygenFingerprint(nodePaths.sshHostKey);
  const impostorDir = mkdtempSync(join(tmpdir(), "harbor-ha-impostor-"));
  t.after(() => rmSync(impostorDir, { recursive: true, force: true }));
  const impostorKey = newSshKey(impostorDir, "impostor_host_key");
  const seen = keygenFingerprint(impostorKey);
  const knownHostsBefore = readFileSync(paths.knownHosts, "utf8");

  // The lab's own sshd on node02 makes way (by PID) for one on the same address with another key.
  const state = await readState(paths.stateFile);
  const labSshd = state?.processes["sshd:node02"];
  assert.ok(labSshd);
  process.kill(labSshd.pid, "SIGTERM");
  while (await isAlive(labSshd)) await new Promise((resolve) => setTimeout(resolve, 20));
  const config = join(impostorDir, "sshd_config");
  writeFileSync(
    config,
    sshdConfig(node02, nodePaths, paths)
      .replace(`HostKey ${nodePaths.sshHostKey}`, `HostKey ${impostorKey}`)
      .replace(`PidFile ${nodePaths.sshdPidFile}`, `PidFile ${join(impostorDir, "sshd.pid")}`),
    { mode: 0o600 },
  );
  const impostor = spawn(
    "nsenter",
    [`--net=/run/netns/${node02.netns}`, "/usr/sbin/sshd", "-D", "-e", "-f", config],
    {
      stdio: "ignore",
    },
  );
  t.after(async () => {
    if (impostor.pid && impostor.exitCode === null) {
      const exited = new Promise((resolve) => impostor.once("exit", resolve));
      process.kill(impostor.pid, "SIGTERM");
      await exited;
    }
    // lab up starts node02's own sshd again (its recorded process is dead).
    await labUp({ logger });
  });
  for (let i = 0; i < 100 && !(await sshAnswers(node02.address, 22, 500)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const mismatch = `host key mismatch for node02 (10.77.0.12:22): expected ${expected}, seen ${seen}`;
  const dryRun = await deploy("--dry-run");
  assert.equal(dryRun.code, 1, dryRun.stdout);
  assert.ok(dryRun.stdout.includes(`node02 host.docker: failed — ${mismatch}`), dryRun.stdout);
  assert.match(dryRun.stdout, /hint: check the host[\s\S]*update nodes\[node02\]\.ssh\.hostKey/);
  const record = await deploy("--record-host-keys");
  assert.equal(record.code, 1, record.stdout + record.stderr);
  assert.match(record.stdout, /node01 .* PINNED/);
  assert.ok(record.stdout.includes(`ssh-ed25519 ${seen}  MISMATCH`), record.stdout);
  assert.doesNotMatch(record.stdout, /host\.docker/, "no deploy step ran");
  assert.equal(readFileSync(paths.knownHosts, "utf8"), knownHostsBefore, "the pinned key is not replaced");

  const { site } = await loadSiteConfig(paths.config);
  const node = site.nodes.find((candidate) => candidate.name === "node02");
  assert.ok(node);
  const fence = await fenceOverSsh(node);
  assert.equal(fence.ok, false, fence.detail);
  assert.ok(
    fence.detail.includes(`not fenced: node02's agent is silent and SSH was refused: ${mismatch}`),
    fence.detail,
  );
});

test("with the lab's own sshd back, both nodes' host keys match their pins", async () => {
  const shown = await runCli(["--config", paths.config, "nodes", "host-keys"], env);
  assert.equal(shown.code, 0, shown.stdout + shown.stderr);
  assert.match(shown.stdout, /node01 .* PINNED: matches its pin\nnode02 .* PINNED: matches its pin/);
});

test("a dead Docker daemon stops the deploy at step 0: nothing after it runs", async () => {
  const state = await readState(paths.stateFile);
  const dockerd = state?.processes["dockerd:node02"];
  assert.ok(dockerd);
  process.kill(dockerd.pid, "SIGTERM");
  const result = await deploy();
  assert.equal(result.code, 1);
  assert.match(result.stdout, /✗ \[\d+\] node02 host\.docker: failed — Docker on node02 does not answer/);
  assert.match(result.stdout, /deploy FAILED at host\.docker on node02/);
  const node01 = new Docker({ socketPath: paths.node("node01").dockerSocket });
  const managed = await node01.listContainers({
    all: true,
    filters: { label: [`${COMPONENT_LABEL}=postgres`] },
  });
  assert.deepEqual(managed, [], "no PostgreSQL was started after the failed step");
  await labUp({ logger });
});

test("deploy installs the whole site: primary and VIP on node01, streaming standby, Harbor, client access", async () => {
  // node02's agent is gone, as on a bare host: step 0 must install it over SSH, under supervision.
  const state = await readState(paths.stateFile);
  const labAgent = state?.processes["agent:node02"];
  assert.ok(labAgent);
  process.kill(labAgent.pid, "SIGKILL");
  while (await isAlive(labAgent)) await new Promise((resolve) => setTimeout(resolve, 20));

  const result = await deploy();
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /deploy done in .*: \d+ changes/);
  assert.match(
    result.stdout,
    /✓ \[\d+\] node02 host\.agent: changed — agent installed in \S+, supervised, pid \d+ answering ping/,
  );
  assert.match(result.stdout, /· \[\d+\] node01 host\.agent: unchanged — agent pid \d+ answering ping/);
  // The lab's nodes share the operations host's filesystem: the key compares equal, nothing is copied.
  assert.match(result.stdout, /node02 host\.agent: changed — .*; site key [0-9a-f]{12} in place/);

  assert.deepEqual(
    await vipHolders(["node01", "node02"], VIP),
    ["node01"],
    "exactly one VIP holder, the primary's node",
  );
  await query(
    VIP,
    "create table if not exists deploy_probe (id serial primary key, at timestamptz default now())",
  );
  const [written] = await query<{ id: number }>(VIP, "insert into deploy_probe default values returning id");
  assert.ok(written, "a write through the VIP succeeds");
  const [standby] = await query<{ recovery: boolean }>(
    "10.77.0.12",
    "select pg_is_in_recovery() as recovery",
  );
  assert.equal(standby?.recovery, true);
  const [receiver] = await query<{ status: string }>("10.77.0.12", "select status from pg_stat_wal_receiver");
  assert.equal(receiver?.status, "streaming");

  for (const host of ["10.77.0.11", "10.77.0.12", VIP]) {
    const health = await httpGet(`http://${host}:5000/api/v2.0/health`);
    assert.equal(JSON.parse(health.body).status, "healthy", `Harbor healthy on ${host}: ${health.body}`);
  }
  assert.equal(
    (await httpGet(`http://${VIP}:5000/v2/`)).status,
    401,
    "the registry refuses anonymous clients",
  );
  const catalog = await httpGet(
    `http://${VIP}:5000/v2/_catalog`,
    `admin:${env.HARBOR_HA_HARBOR_ADMIN_PASSWORD}`,
  );
  assert.equal(catalog.status, 200);
  assert.ok(
    (JSON.parse(catalog.body).repositories as string[]).length > 0,
    "the client check pushed an image",
  );
});

test("after the deploy the control-plane Redis holds none of Harbor's secrets: sealed at rest, named by digest in the jobs", async () => {
  const { site } = await loadSiteConfig(paths.config);
  const node = site.nodes[0];
  assert.ok(node);
  // What the nodes were given, read back from node01's Harbor data_volume.
  const { dataVolume } = harborNodeLayout(site, node);
  const installed = await Promise.all(
    harborSecretFiles({
      secretKey: "",
      coreSecret: "",
      jobserviceSecret: "",
      csrfKey: "",
      registryHttpSecret: "",
      corePrivateKey: "",
    }).map(async (file) => (await readFile(join(dataVolume, file.path), "utf8")).trim()),
  );
  const needles = installed.flatMap((value) =>
    value.includes("PRIVATE KEY")
      ? value.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----"))
      : [value],
  );
  assert.ok(needles.length >= 6, "the secrets were installed");
  const redis = await openLabRedis("controller");
  try {
    const record = (await redis.get(harborSecretsKey(site.site))) ?? "";
    assert.equal(isSealedRecord(record), true, "the record is sealed");
    const everything = (await allRedisValues(redis)).join("\n");
    assert.match(
      everything,
      /"stepId":"harbor\.install"[^}]*"harborSecretsDigest":"[0-9a-f]{64}"/,
      "deploy.step jobs are kept",
    );
    assert.deepEqual(
      needles.filter((needle) => everything.includes(needle)).map((needle) => needle.slice(0, 6)),
      [],
      "no secret in any key of the control-plane Redis",
    );
  } finally {
    redis.disconnect();
  }
});

test("a second deploy on the deployed site makes 0 changes", async () => {
  const result = await deploy();
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /deploy done in .*: 0 changes/);
  const dryRun = await deploy("--dry-run");
  assert.equal(dryRun.code, 0);
  assert.match(dryRun.stdout, /dry run done in .*: 0 changes/);
});

test("a site key rotation, then a deploy: the running agents take the new key up, Harbor's secrets open with it, the chain verifies", async () => {
  const rotated = await runCli(["--config", paths.config, "site-key", "rotate", "--json"], env);
  assert.equal(rotated.code, 0, `${rotated.stdout}\n${rotated.stderr}`);
  const { from, to } = JSON.parse(rotated.stdout) as { from: string; to: string };
  assert.notEqual(from, to);
  const result = await deploy();
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  for (const node of ["node01", "node02"]) {
    assert.match(
      result.stdout,
      new RegExp(`${node} host\\.agent: unchanged — agent pid \\d+ answering ping; site key ${to} in place`),
    );
    assert.match(result.stdout, new RegExp(`${node} harbor\\.install: unchanged`));
  }
  assert.match(result.stdout, /deploy done in .*: 0 changes/);
  const verified = await runCli(["--config", paths.config, "history", "--verify"], env);
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, /audit chain of .* verified/);
});
