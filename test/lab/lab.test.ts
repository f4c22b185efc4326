/**
 * The local lab for real: namespaces, dockerd, sshd and Redis on this machine (root needed).
 * Run with: node --import tsx --test test/lab/lab.test.ts
 *
 * The tests share one lab and run in order: up, checks, a second up, a restart, down. Cleanup runs
 * even when an assertion fails, but never tears down a lab this file did not bring up.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import Docker from "dockerode";
import { loadSiteConfig } from "../../config/load.ts";
import { agentRole } from "../../config/redis-credentials.ts";
import { Containers } from "../../jobs/adapters/containers.ts";
import { controllerLeaseKey } from "../../jobs/controller-lease-key.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { purgeDaemon } from "../../lab/image-store.ts";
import { labDown, labPaths, labStatus, labUp, type StepEvent } from "../../lab/index.ts";
import { isUnder, readMountPoints } from "../../lab/mounts.ts";
import { exchange } from "../../lab/probes.ts";
import { isAlive, type ProcessRecord } from "../../lab/processes.ts";
import { readState } from "../../lab/state.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { createLogger } from "../../support/logger.ts";
import { labRedisCredentials, openLabRedis } from "../support/lab-redis.ts";
import { ownLab } from "../support/own-lab.ts";

const execFileAsync = promisify(execFile);
const logger = createLogger({ component: "lab-test", level: "warn", destination: process.stderr });
const lab = ownLab(logger);
const paths = labPaths();
const IMAGE = "harbor-ha/node:bookworm";
const ADDRESSES: Readonly<Record<string, string>> = { node01: "10.77.0.11", node02: "10.77.0.12" };

/** The product's CLI: its agents run on the nodes, and `nodes ping` reaches them through Redis. */
const CLI = new URL("../../bin/harbor-ha.js", import.meta.url).pathname;

let firstUp: StepEvent[] = [];

async function sshToNode(address: string, command: string): Promise<string> {
  const { stdout } = await execFileAsync("ssh", [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${paths.knownHosts}`,
    "-o",
    "ConnectTimeout=5",
    "-i",
    paths.sshKey,
    `root@${address}`,
    command,
  ]);
  return stdout.trim();
}

async function up(): Promise<StepEvent[]> {
  const events: StepEvent[] = [];
  await labUp({ logger, onStep: (event) => events.push(event) });
  return events;
}

before(async () => {
  firstUp = await lab.up();
});

after(async () => {
  await lab.down();
});

test("lab up runs every step, in order, and a fresh lab changes something in each but the cached ones", () => {
  assert.deepEqual(
    firstUp.map((e) => e.step),
    [
      "packages",
      "folders",
      "network",
      "image",
      "ssh-keys",
      "secrets",
      "site-key",
      "site-config",
      "harbor-bundle",
      "docker",
      "image-import",
      "sshd",
      "redis-tls",
      "redis",
      "agents",
    ],
  );
  // packages, image and image-import depend on the machine (installed already, tarball cached,
  // the nodes' image stores kept from an earlier lab); the rest was made now.
  const cached = new Set(["packages", "image", "image-import"]);
  assert.deepEqual(
    firstUp.filter((e) => e.status !== "done" && !cached.has(e.step)),
    [],
  );
});

test("each node answers SSH, and a session there talks to that node's own dockerd", async () => {
  const site = await loadSiteConfig(paths.config);
  assert.equal(site.site.nodes.length, 2);
  for (const node of site.site.nodes) {
    const info = await sshToNode(node.address, "docker info --format '{{.DockerRootDir}}' && hostname -I");
    const [rootDir, addresses] = info.split("\n");
    assert.equal(
      rootDir,
      paths.node(node.name).dockerDataRoot,
      `${node.name}'s ssh session reaches its own dockerd`,
    );
    assert.equal(addresses?.trim(), node.address, `${node.name}'s session runs in its own namespace`);
  }
});

test("each node's dockerd answers a ping, holds the image, and runs it on the node's address", async () => {
  for (const name of Object.keys(ADDRESSES)) {
    const socketPath = paths.node(name).dockerSocket;
    const docker = new Docker({ socketPath });
    assert.equal(String(await docker.ping()), "OK");
    const image = await docker.getImage(IMAGE).inspect();
    assert.match(image.Config.Env.join(" "), /PATH=\/usr\/lib\/postgresql\/15\/bin:/);
    const { stdout } = await execFileAsync("docker", [
      "--host",
      `unix://${socketPath}`,
      "run",
      "--rm",
      "--network",
      "host",
      IMAGE,
      "sh",
      "-c",
      "ip -4 -o addr show dev eth0 && postgres --version",
    ]);
    assert.match(stdout, new RegExp(`inet ${ADDRESSES[name]?.replaceAll(".", "\\.")}/24`));
    assert.match(stdout, /postgres \(PostgreSQL\) 15\./);
  }
});

test("a one-shot container whose job is cancelled is killed and removed: container.wait() alone would wait", async () => {
  const docker = new Docker({ socketPath: paths.node("node01").dockerSocket });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 500);
  await assert.rejects(
    new Containers(docker).runOnce(
      { name: "harbor-ha-oneshot-test", image: IMAGE, component: "test", cmd: ["sleep", "120"] },
      { signal: controller.signal },
    ),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "CONTAINER_TIMEOUT");
      assert.match(error.message, /harbor-ha-oneshot-test was killed: its job was cancelled/);
      return true;
    },
  );
  const left = await docker.listContainers({ all: true, filters: { name: ["harbor-ha-oneshot-test"] } });
  assert.deepEqual(left, [], "removed after");
});

test("what a lab leaves in a node's kept image store is purged: containers, volumes, other images; the node image stays", async () => {
  const socketPath = paths.node("node01").dockerSocket;
  const docker = new Docker({ socketPath });
  const dockerCli = (...args: string[]) =>
    execFileAsync("docker", ["--host", `unix://${socketPath}`, ...args]);
  await dockerCli("volume", "create", "left-behind");
  await dockerCli("tag", IMAGE, "left-behind/image:1");
  await dockerCli(
    "create",
    "--name",
    "left-behind",
    "-v",
    "left-behind:/data",
    "left-behind/image:1",
    "true",
  );
  const purged = await purgeDaemon(socketPath);
  assert.deepEqual(purged, { containers: 1, volumes: 1, images: 1, networks: 0 });
  assert.deepEqual(await docker.listContainers({ all: true }), []);
  assert.deepEqual((await docker.listVolumes()).Volumes ?? [], []);
  const tags = (await docker.listImages()).flatMap((image) => image.RepoTags ?? []);
  assert.deepEqual(tags, [IMAGE], "the extra tag is gone, the node image kept");
});

test("lab status finds every node answering SSH and Docker", async () => {
  const status = await labStatus();
  assert.ok(status.up);
  assert.equal(status.config, paths.config);
  assert.equal(status.redisUrl, "rediss://10.77.0.1:6379/0");
  assert.deepEqual(
    status.nodes.map((n) => [n.name, n.address, n.ssh, n.docker]),
    [
      ["node01", "10.77.0.11", true, true],
      ["node02", "10.77.0.12", true, true],
    ],
  );
});

test("the secrets file is private and holds every secret the site names", async () => {
  assert.equal((await stat(paths.env)).mode & 0o777, 0o600);
  const text = await readFile(paths.env, "utf8");
  for (const key of [
    "HARBOR_HA_PG_PASSWORD",
    "HARBOR_HA_REPLICATION_PASSWORD",
    "HARBOR_HA_HARBOR_ADMIN_PASSWORD",
    "HARBOR_HA_REDIS_PASSWORD",
    "HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01",
    "HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02",
  ]) {
    assert.match(text, new RegExp(`^${key}=\\S{16,}$`, "m"));
  }
});

test("each node's agent answers a ping through the control-plane Redis", async () => {
  const state = await readState(paths.stateFile);
  const { stdout } = await execFileAsync(process.execPath, [
    CLI,
    "--config",
    paths.config,
    "nodes",
    "ping",
    "--json",
  ]);
  const answers = JSON.parse(stdout) as {
    node: string;
    ok: boolean;
    outcome?: { result?: { agentPid?: number } };
  }[];
  assert.deepEqual(
    answers.map((a) => [a.node, a.ok, a.outcome?.result?.agentPid]),
    ["node01", "node02"].map((node) => [node, true, state?.processes[`agent:${node}`]?.pid]),
  );
});

test("the lab's Redis refuses a client without credentials, a plain connection and an agent on another node's queue", async () => {
  const { site } = await loadSiteConfig(paths.config);
  const tls = site.controlPlane.tls ?? assert.fail("the lab's site names its Redis TLS files");
  const anonymous = openControlPlaneRedis(
    site.controlPlane,
    { role: "controller" },
    { maxRetriesPerRequest: 1 },
  );
  anonymous.on("error", () => {});
  try {
    await assert.rejects(anonymous.get(controllerLeaseKey(site.site)), /NOAUTH/);
  } finally {
    anonymous.disconnect();
  }
  // Without the client certificate, the TLS handshake itself is refused (tls-auth-clients yes).
  const noCertificate = openControlPlaneRedis(
    { ...site.controlPlane, tls: { caFile: tls.caFile } },
    await labRedisCredentials(site),
    { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true },
  );
  noCertificate.on("error", () => {});
  await assert.rejects(noCertificate.connect().then(() => noCertificate.ping()));
  noCertificate.disconnect();
  // Plain text to the TLS port gets no Redis answer: nothing listens without TLS.
  assert.equal(
    await exchange("10.77.0.1", 6379, "PING\r\n", 2_000).then((reply) => reply?.startsWith("+PONG") ?? false),
    false,
  );

  const agent = await openLabRedis(agentRole("node01"), { maxRetriesPerRequest: 1 });
  try {
    const queue = new Queue(nodeQueueName("node02"), { connection: agent, prefix: queuePrefix(site.site) });
    queue.on("error", () => {});
    await assert.rejects(queue.add("postgres.promote", { fencingToken: 1 }), /NOPERM/);
    await queue.close();
  } finally {
    agent.disconnect();
  }
});

test("a second lab up on a running lab changes nothing", async () => {
  const secretsBefore = await readFile(paths.env, "utf8");
  const events = await up();
  assert.deepEqual(
    events.filter((e) => e.status !== "unchanged").map((e) => `${e.step}: ${e.status} ${e.detail}`),
    [],
  );
  assert.equal(await readFile(paths.env, "utf8"), secretsBefore, "secrets are kept across ups");
});

test("lab up restarts a daemon that died and leaves the others alone", async () => {
  const state = await readState(paths.stateFile);
  const sshd = state?.processes["sshd:node02"];
  const dockerd = state?.processes["dockerd:node01"];
  assert.ok(sshd && dockerd);
  process.kill(sshd.pid, "SIGKILL");
  const deadline = Date.now() + 5_000;
  while ((await isAlive(sshd)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const events = await up();
  const changedSteps = events.filter((e) => e.status !== "unchanged");
  assert.deepEqual(
    changedSteps.map((e) => e.step),
    ["sshd"],
  );
  assert.match(changedSteps[0]?.detail ?? "", /node02 restarted/);
  const after = await readState(paths.stateFile);
  assert.notEqual(after?.processes["sshd:node02"]?.pid, sshd.pid);
  assert.equal(after?.processes["dockerd:node01"]?.pid, dockerd.pid, "a live dockerd is left alone");
  assert.equal(await sshToNode("10.77.0.12", "echo ok"), "ok", "node02 answers SSH again");
});

test("lab down removes every namespace, process, mount, bridge and folder the lab made", async () => {
  const state = await readState(paths.stateFile);
  assert.ok(state);
  const recorded: ProcessRecord[] = Object.values(state.processes);
  assert.ok(recorded.length >= 7, "dockerd, sshd and agent per node and redis were recorded");

  await labDown({ logger });

  const { stdout: namespaces } = await execFileAsync("ip", ["netns", "list"]);
  for (const name of ["node01", "node02"]) assert.doesNotMatch(namespaces, new RegExp(`^${name}\\b`, "m"));
  for (const record of recorded)
    assert.equal(await isAlive(record), false, `pid ${record.pid} (${record.argv[0]}) is gone`);
  const mounts = (await readMountPoints()).filter((m) => isUnder(m, paths.root) || isUnder(m, paths.runRoot));
  assert.deepEqual(mounts, []);
  await assert.rejects(execFileAsync("ip", ["link", "show", "dev", "hha-br0"]), "the bridge is gone");
  assert.equal(existsSync(paths.root), false);
  assert.equal(existsSync(paths.runRoot), false);
  assert.equal(existsSync(paths.imageCacheDir), true, "the image cache is kept");
  // The image stores are kept too, holding the node image and nothing the lab made.
  for (const name of ["node01", "node02"])
    assert.equal(existsSync(paths.node(name).dockerDataRoot), true, `${name}'s image store is kept`);
  assert.equal((await labStatus()).up, false);
});
