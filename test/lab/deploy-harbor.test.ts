/**
 * Runbook step 3 and 4 on the real lab: harbor.redis and harbor.install applied through the
 * nodes' agents (the stand-in bundle), then checked from the client side through the VIP.
 * Root needed; the lab comes down even when an assertion fails, and a lab this file did not
 * bring up is never touched. Run with: node --import tsx --test test/lab/deploy-harbor.test.ts
 *
 * Until this file is switched to the real postgres.* and keepalived steps, `before` stands in
 * for them by hand: the VIP on node01 and one PostgreSQL container there listening on it.
 */

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { promisify } from "node:util";
import Docker from "dockerode";
import pg from "pg";
import { loadSiteConfig } from "../../config/load.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { checkHarborAsClient } from "../../jobs/deploy/harbor-client.ts";
import { readHarborHealth, readHarborVersion } from "../../jobs/deploy/harbor-health.ts";
import { generateHarborSecrets } from "../../jobs/deploy/harbor-secrets.ts";
import { loadOrCreateHarborSecrets } from "../../jobs/deploy/harbor-secrets-store.ts";
import { Skopeo } from "../../jobs/deploy/harbor-skopeo.ts";
import type { DeployStepId, StepMode, StepOutcome } from "../../jobs/deploy/step-contract.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { ensureHarborBundle } from "../../lab/harbor-bundle.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { createLogger } from "../../support/logger.ts";
import { labRedisCredentials, openLabRedis } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";

const execFileAsync = promisify(execFile);
const logger = createLogger({ component: "deploy-harbor-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const VIP = "10.77.0.100";
const IMAGE = "harbor-ha/node:bookworm";
const STAND_IN_PG = "harbor-test-pg";
const UPGRADE_VERSION = "2.3.0";

let site: SiteConfig;
let env: Record<string, string> = {};
let jobs: NodeJobs;
/** The sealed record's digest: steps name the secrets, the agents read them from Redis. */
let harborSecretsDigest: string;
let port: number;

const docker = (node: string) => new Docker({ socketPath: paths.node(node).dockerSocket });
const dockerCli = (node: string, ...args: string[]) =>
  execFileAsync("docker", ["--host", `unix://${paths.node(node).dockerSocket}`, ...args]);

/** One deploy step through the node's agent; its round trip goes to the test's diagnostics. */
async function step(
  t: TestContext,
  node: string,
  stepId: DeployStepId,
  mode: StepMode,
  harborVersion?: string,
) {
  const request = {
    stepId,
    mode,
    primaryNode: "node01",
    harborSecretsDigest,
    ...(harborVersion ? { harborVersion } : {}),
  };
  const { result, roundTripMs } = await jobs.send(node, "deploy.step", request, { waitMs: 320_000 });
  t.diagnostic(
    `${node} ${stepId} ${mode}${harborVersion ? ` ${harborVersion}` : ""}: ${result.status} in ${Math.round(roundTripMs)} ms`,
  );
  return result;
}

function describe(outcome: StepOutcome): string {
  return [outcome.status, outcome.detail, outcome.hint, outcome.outputTail].filter(Boolean).join(" | ");
}

/** The VIP and a PostgreSQL on node01 listening on it: what postgres.primary and keepalived will provide. */
async function standInForPostgresAndVip(): Promise<void> {
  await execFileAsync("ip", ["netns", "exec", "node01", "ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
  const dir = join(paths.node("node01").disk, "harbor-test-pg");
  const run = (user: string, ...command: string[]) =>
    dockerCli(
      "node01",
      "run",
      "--rm",
      "--network",
      "none",
      "--user",
      user,
      "-e",
      `PW=${env.HARBOR_HA_PG_PASSWORD}`,
      "-v",
      `${dir}:/pg`,
      IMAGE,
      ...command,
    );
  await run("root", "sh", "-c", "mkdir -p /pg && chown postgres:postgres /pg");
  await run(
    "postgres",
    "sh",
    "-c",
    'echo "$PW" > /tmp/pw && initdb -D /pg/data -U postgres --pwfile=/tmp/pw --auth-host=scram-sha-256 --auth-local=trust >/dev/null && echo "host all all 10.77.0.0/24 scram-sha-256" >> /pg/data/pg_hba.conf',
  );
  await dockerCli(
    "node01",
    ...[
      "run",
      "-d",
      "--name",
      STAND_IN_PG,
      "--network",
      "host",
      "--user",
      "postgres",
      "--stop-signal",
      "SIGINT",
    ],
    ...[
      "-v",
      `${dir}:/pg`,
      IMAGE,
      "postgres",
      "-D",
      "/pg/data",
      "-c",
      `listen_addresses=10.77.0.11,${VIP}`,
      "-c",
      "jit=off",
    ],
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({
      host: VIP,
      user: "postgres",
      password: env.HARBOR_HA_PG_PASSWORD,
      database: "postgres",
    });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function containerStarts(node: string): Promise<Record<string, string>> {
  const listed = await docker(node).listContainers({ filters: { label: ["io.harbor-ha.component"] } });
  const starts: Record<string, string> = {};
  for (const { Id, Names } of listed) {
    const name = (Names[0] ?? "").replace(/^\//, "");
    if (name.startsWith("harbor-"))
      starts[name] = (await docker(node).getContainer(Id).inspect()).State.StartedAt;
  }
  return starts;
}

before(async () => {
  await lab.up();
  env = await readEnvFile(paths.env);
  site = (await loadSiteConfig(paths.config)).site;
  port = site.harbor.httpPort;
  await ensureHarborBundle(paths, site.harbor.version);
  await standInForPostgresAndVip();
  const siteKey = await readSiteKey(site.security.siteKeyFile);
  jobs = new NodeJobs(site, siteKey, await labRedisCredentials(site));
  // The control plane makes these once per site, sealed in Redis; every node reads the same ones.
  const redis = await openLabRedis("controller");
  try {
    harborSecretsDigest = (
      await loadOrCreateHarborSecrets(redis, site.site, siteKey, () => generateHarborSecrets())
    ).digest;
  } finally {
    redis.disconnect();
  }
});

after(async () => {
  await jobs?.close();
  await lab.down();
});

test("check mode says what harbor.redis and harbor.install would do and changes nothing", async (t) => {
  const redis = await step(t, "node01", "harbor.redis", "check");
  assert.equal(redis.status, "would-change", describe(redis));
  assert.match(redis.detail, /would create harbor-redis on 10\.77\.0\.11:6379/);
  const install = await step(t, "node02", "harbor.install", "check");
  assert.equal(install.status, "would-change", describe(install));
  assert.match(
    install.detail,
    /would unpack .*harbor-offline-installer-v2\.2\.2\.tgz, write harbor\.yml, install 6 shared secret files/,
  );
  assert.deepEqual(await containerStarts("node01"), {});
  assert.equal(existsSync(join(paths.node("node02").disk, "harbor")), false, "nothing was written");
});

test("apply starts Harbor's Redis on node01, then Harbor on each node, each healthy on its own address", async (t) => {
  const redis = await step(t, "node01", "harbor.redis", "apply");
  assert.equal(redis.status, "changed", describe(redis));
  for (const node of ["node01", "node02"]) {
    const install = await step(t, node, "harbor.install", "apply");
    assert.equal(install.status, "changed", describe(install));
    assert.match(install.detail, new RegExp(`installed Harbor v2\\.2\\.2 on ${node}: healthy`));
    assert.ok(install.output?.includes("ran prepare"), install.output?.join("\n"));
  }
});

test("Harbor reads healthy on both node addresses and through the VIP, from real checks", async () => {
  for (const host of ["10.77.0.11", "10.77.0.12", VIP]) {
    const reading = await readHarborHealth(`http://${host}:${port}`);
    assert.ok(reading.ok, `${host}: ${reading.ok ? "" : reading.error}`);
    assert.deepEqual(
      reading.health.components.map((c) => `${c.name}=${c.status}`),
      ["core=healthy", "database=healthy", "redis=healthy", "registry=healthy"],
      host,
    );
  }
  const ping = await fetch(`http://${VIP}:${port}/api/v2.0/ping`);
  assert.equal(await ping.text(), "Pong");
});

test("push and pull through the VIP work with the admin credentials and are refused without them", async () => {
  const anonymous = await fetch(`http://${VIP}:${port}/v2/`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm=/);
  const outcome = await checkHarborAsClient(site, env.HARBOR_HA_HARBOR_ADMIN_PASSWORD ?? "", "apply");
  assert.equal(outcome.status, "unchanged", describe(outcome));
  const lines = outcome.output?.join("\n") ?? "";
  assert.match(lines, /login as admin: ok/);
  assert.match(lines, /push without credentials: refused/);
  assert.match(lines, /push 10\.77\.0\.100:\d+\/library\/harbor-ha-check:latest .*: ok/);
  assert.match(lines, /pull without credentials: refused .*unauthorized/);
  assert.match(lines, /pull: ok, the same config and layer content came back/);
});

test("node02 serves what was pushed through node01: one shared storage", async () => {
  const home = await mkdtemp(join(tmpdir(), "harbor-ha-test-"));
  try {
    const skopeo = new Skopeo({ home, registry: `10.77.0.12:${port}` });
    const auth = join(home, "auth.json");
    assert.equal((await skopeo.login(auth, "admin", env.HARBOR_HA_HARBOR_ADMIN_PASSWORD ?? "")).code, 0);
    const pull = await skopeo.pull("library/harbor-ha-check:latest", join(home, "pulled"), "latest", auth);
    assert.equal(pull.code, 0, pull.output);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("an upload begun on node01 is finished on node02 (the registries share http.secret)", async () => {
  const auth = {
    authorization: `Basic ${Buffer.from(`admin:${env.HARBOR_HA_HARBOR_ADMIN_PASSWORD}`).toString("base64")}`,
  };
  const begun = await fetch(`http://10.77.0.11:${port}/v2/library/cross-node/blobs/uploads/`, {
    method: "POST",
    headers: auth,
  });
  assert.equal(begun.status, 202);
  const location = begun.headers.get("location") ?? "";
  assert.match(
    location,
    /^\/v2\/library\/cross-node\/blobs\/uploads\//,
    "relative, so either node can take it",
  );
  const blob = Buffer.from(`cross-node ${Date.now()}\n`);
  const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
  const url = new URL(location, `http://10.77.0.12:${port}`);
  url.searchParams.set("digest", digest);
  const finished = await fetch(url, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/octet-stream" },
    body: blob,
  });
  assert.equal(finished.status, 201, await finished.text());
  const seen = await fetch(`http://10.77.0.11:${port}/v2/library/cross-node/blobs/${digest}`, {
    method: "HEAD",
    headers: auth,
  });
  assert.equal(seen.status, 200);
});

test("a second apply of every Harbor step changes nothing and restarts nothing", async (t) => {
  const before = { node01: await containerStarts("node01"), node02: await containerStarts("node02") };
  assert.deepEqual(Object.keys(before.node01).sort(), ["harbor-core", "harbor-redis", "harbor-registry"]);
  const redis = await step(t, "node01", "harbor.redis", "apply");
  assert.equal(redis.status, "unchanged", describe(redis));
  for (const node of ["node01", "node02"] as const) {
    const install = await step(t, node, "harbor.install", "apply");
    assert.equal(install.status, "unchanged", describe(install));
    assert.match(install.detail, /harbor-registry, harbor-core running, healthy/);
    assert.equal((await step(t, node, "harbor.install", "check")).status, "unchanged");
  }
  assert.deepEqual(
    { node01: await containerStarts("node01"), node02: await containerStarts("node02") },
    before,
  );
});

test("a port Harbor needs, taken by another process, fails with its own message; freed, the step resumes", async (t) => {
  await dockerCli("node02", "rm", "-f", "harbor-core");
  const squatter = spawn(
    "ip",
    ["netns", "exec", "node02", "python3", "-m", "http.server", String(port), "--bind", "10.77.0.12"],
    {
      stdio: "ignore",
    },
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const taken = await step(t, "node02", "harbor.install", "apply");
    assert.equal(taken.status, "failed", describe(taken));
    assert.equal(taken.detail, `port ${port} on node02 is already in use by another process`);
    assert.match(taken.hint ?? "", /stop what listens there/);
    assert.match(taken.outputTail ?? "", /python3/);
  } finally {
    squatter.kill("SIGKILL");
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const resumed = await step(t, "node02", "harbor.install", "apply");
  assert.equal(resumed.status, "changed", describe(resumed));
  assert.deepEqual(resumed.output?.slice(0, 1), ["created harbor-core"]);
});

test("a missing installer bundle fails with its path and a hint, and changes nothing", async (t) => {
  const missing = await step(t, "node01", "harbor.install", "apply", "9.9.9");
  assert.equal(missing.status, "failed");
  assert.equal(
    missing.detail,
    `installer bundle not found at ${join(paths.root, "harbor", "harbor-offline-installer-v9.9.9.tgz")}`,
  );
  assert.match(missing.hint ?? "", /offline installer/);
  assert.equal((await step(t, "node01", "harbor.install", "check")).status, "unchanged");
});

test("an upgrade goes one node at a time: the other keeps serving the old version, healthy", async (t) => {
  await ensureHarborBundle(paths, UPGRADE_VERSION);
  const first = await step(t, "node01", "harbor.install", "apply", UPGRADE_VERSION);
  assert.equal(first.status, "changed", describe(first));
  assert.match(first.detail, /upgraded Harbor on node01 from v2\.2\.2 to v2\.3\.0: healthy/);
  assert.equal(await readHarborVersion(`http://10.77.0.11:${port}`), "v2.3.0-standin");
  assert.equal(await readHarborVersion(`http://10.77.0.12:${port}`), "v2.2.2-standin");
  const other = await readHarborHealth(`http://10.77.0.12:${port}`);
  assert.ok(other.ok && other.health.healthy, "node02 keeps serving during node01's upgrade");
  const second = await step(t, "node02", "harbor.install", "apply", UPGRADE_VERSION);
  assert.equal(second.status, "changed", describe(second));
  assert.equal(await readHarborVersion(`http://${VIP}:${port}`), "v2.3.0-standin");
  const client = await checkHarborAsClient(site, env.HARBOR_HA_HARBOR_ADMIN_PASSWORD ?? "", "apply");
  assert.equal(client.status, "unchanged", describe(client));
});
