import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { CONTROLLER_QUEUE } from "../../bot/controller-queue.ts";
import { parseSiteConfig } from "../../config/load.ts";
import { agentRole, type RedisCredentials, resolveRedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { AuditLog, auditStreamKey } from "../../jobs/audit-log.ts";
import { controllerLeaseKey, formatControllerLease } from "../../jobs/controller-lease-key.ts";
import { harborSecretsKey } from "../../jobs/deploy/harbor-secrets-store.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { primaryLeaseKey } from "../../jobs/primary-lease.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { renderAclFile, sha256Hex } from "../../jobs/redis-acl.ts";
import { securityEventsKey } from "../../jobs/signing/job-refusal.ts";
import { observationChannel, observationKey } from "../../probes/observation.ts";
import { assertControlPlaneReachable, openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { loopbackSite } from "../support/loopback-site.ts";
import { type Background, runCli, startCli } from "../support/processes.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";

/**
 * The control-plane Redis the way the lab runs it: TLS only with a throwaway CA made by openssl,
 * mutual TLS, the default user off, and the ACL users of jobs/redis-acl.ts. What an attacker
 * holding one node's secrets file can and cannot do with its agent's password.
 */
describe("the control-plane Redis with TLS and ACL users", () => {
  const siteName = "acltest";
  const passwords = {
    HARBOR_HA_REDIS_PASSWORD: randomBytes(12).toString("base64url"),
    HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: randomBytes(12).toString("base64url"),
    HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02: randomBytes(12).toString("base64url"),
  };
  const auth = { controller: { user: "harbor-ha-controller", passwordEnv: "HARBOR_HA_REDIS_PASSWORD" } };
  const secrets = {
    HARBOR_HA_PG_PASSWORD: "pg-secret",
    HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
    HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
  };
  let redis: TestRedis;
  let dir: string;
  let config: string;
  let site: SiteConfig;
  const open: Redis[] = [];
  const agents: Background[] = [];

  const connect = (credentials: RedisCredentials) => {
    const connection = openControlPlaneRedis(site.controlPlane, credentials, { maxRetriesPerRequest: 1 });
    connection.on("error", () => {});
    open.push(connection);
    return connection;
  };
  const as = (role: "controller" | `agent:${string}`) =>
    connect(resolveRedisCredentials(site, role, passwords));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-acl-"));
    const withAuth = await loopbackSite({
      site: siteName,
      redisUrl: "rediss://127.0.0.1:1/0",
      dir,
      changes: [[["controlPlane", "auth"], auth]],
    });
    const draft = parseSiteConfig(withAuth.yaml, "site.yaml").site;
    const hashes = new Map(
      [
        ["harbor-ha-controller", passwords.HARBOR_HA_REDIS_PASSWORD],
        ["harbor-ha-agent-node01", passwords.HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01],
        ["harbor-ha-agent-node02", passwords.HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02],
      ].map(([user, password]) => [user as string, sha256Hex(password as string)]),
    );
    redis = await startTestRedis({ secure: { aclFile: renderAclFile(draft, hashes) } });
    const certs = redis.certificates ?? assert.fail("a secure test Redis has certificates");
    const secured = await loopbackSite({
      site: siteName,
      redisUrl: redis.url,
      dir,
      changes: [
        [["controlPlane", "auth"], auth],
        [
          ["controlPlane", "tls"],
          { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
        ],
      ],
    });
    config = join(dir, "site.yaml");
    writeFileSync(config, secured.yaml);
    site = parseSiteConfig(secured.yaml, config).site;
  });

  after(async () => {
    await Promise.all(agents.map((agent) => agent.stop("SIGKILL")));
    for (const connection of open) connection.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Raw RESP over TLS, as any client would speak it: the replies' first line each. */
  const rawExchange = (lines: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const certs = redis.certificates ?? assert.fail("no certificates");
      const socket = tlsConnect({
        host: "127.0.0.1",
        port: redis.port,
        ca: readFileSync(certs.caFile),
        cert: readFileSync(certs.clientCertFile),
        key: readFileSync(certs.clientKeyFile),
      });
      let received = "";
      socket.setTimeout(3_000, () => socket.destroy(new Error(`no answer: ${received}`)));
      socket.on("error", reject);
      socket.on("secureConnect", () => socket.write(lines.map((line) => `${line}\r\n`).join("")));
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received.split("\r\n").length > lines.length) {
          socket.end();
          resolve(received);
        }
      });
    });

  test("a client without credentials is refused every command", async () => {
    const replies = await rawExchange([`GET ${controllerLeaseKey(siteName)}`, "PING"]);
    assert.match(replies, /^-NOAUTH.*\r\n-NOAUTH/s);
    const anonymous = connect({ role: "controller" });
    await assert.rejects(anonymous.get(controllerLeaseKey(siteName)), /NOAUTH/);
  });

  test("the default user cannot log in, not even with an empty or any password", async () => {
    const replies = await rawExchange(["AUTH default x", "AUTH default nopass", "AUTH x"]);
    assert.equal(replies.match(/-WRONGPASS/g)?.length, 3, replies);
  });

  test("a wrong password is one clear error with a hint, before anything is queued", async () => {
    await assert.rejects(
      assertControlPlaneReachable(site.controlPlane, {
        role: "controller",
        username: "harbor-ha-controller",
        password: "wrong",
      }),
      (error: Error & { hint?: string }) =>
        /WRONGPASS/.test(error.message) && /controlPlane\.auth/.test(error.hint ?? ""),
    );
    await assertControlPlaneReachable(
      site.controlPlane,
      resolveRedisCredentials(site, "controller", passwords),
    );
  });

  test("a plain connection is refused: Redis listens only for TLS", async () => {
    const plain = new Redis(`redis://127.0.0.1:${redis.port}/0`, {
      username: "harbor-ha-controller",
      password: passwords.HARBOR_HA_REDIS_PASSWORD,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2_000,
    });
    plain.on("error", () => {});
    open.push(plain);
    await assert.rejects(async () => {
      await plain.connect();
      await plain.ping();
    });
  });

  test("an agent's credentials cannot add a job to another node's queue nor to the bot's", async () => {
    const attacker = as(agentRole("node01"));
    for (const name of [nodeQueueName("node02"), CONTROLLER_QUEUE]) {
      const queue = new Queue(name, { connection: attacker, prefix: queuePrefix(siteName) });
      queue.on("error", () => {});
      await assert.rejects(
        queue.add("postgres.promote", { fencingToken: 1 }),
        /NOPERM/,
        `node01's agent must not add to ${name}`,
      );
      await queue.close();
    }
    const controller = as("controller");
    assert.equal(await controller.exists(`${queuePrefix(siteName)}:${nodeQueueName("node02")}:wait`), 0);
  });

  test("an agent cannot mint a fencing token, erase the audit trail or touch the server", async () => {
    const agent = as(agentRole("node01"));
    const denied: Array<[string, Promise<unknown>]> = [
      ["SET controller lease", agent.set(controllerLeaseKey(siteName), "{}")],
      ["SET node02's primary lease", agent.set(primaryLeaseKey(siteName, "node02"), "x")],
      ["SET node02's observation", agent.set(observationKey(siteName, "node02"), "x")],
      ["XADD audit", agent.xadd(auditStreamKey(siteName), "*", "actor", "agent:node01")],
      ["XDEL audit", agent.xdel(auditStreamKey(siteName), "0-1")],
      ["XTRIM audit", agent.xtrim(auditStreamKey(siteName), "MAXLEN", 0)],
      ["DEL audit", agent.del(auditStreamKey(siteName))],
      ["XRANGE audit", agent.xrange(auditStreamKey(siteName), "-", "+")],
      ["XDEL security events", agent.xdel(securityEventsKey(siteName), "0-1")],
      ["XRANGE security events", agent.xrange(securityEventsKey(siteName), "-", "+")],
      ["SET Harbor's sealed secrets", agent.set(harborSecretsKey(siteName), "x")],
      ["FLUSHALL", agent.flushall()],
      ["FLUSHDB", agent.flushdb()],
      ["KEYS", agent.keys("*")],
      ["CONFIG GET", agent.config("GET", "*")],
      ["PUBLISH on another channel", agent.publish(`harbor-ha:${siteName}:other`, "x")],
    ];
    for (const [what, attempt] of denied) await assert.rejects(attempt, /NOPERM/, what);
  });

  test("the controller owns its site's keys but not the server, and keeps the audit chain", async () => {
    const controller = as("controller");
    const audit = new AuditLog(controller, siteName, await readSiteKey(site.security.siteKeyFile));
    await audit.append({ actor: "controller", action: "acl.test", outcome: "ok" });
    await audit.append({ actor: "controller", action: "acl.test", outcome: "ok" });
    assert.deepEqual((await audit.verify()).breaks, [], "the chain's Lua runs under the controller's ACL");
    await assert.rejects(controller.flushall(), /NOPERM/);
    await assert.rejects(controller.config("GET", "*"), /NOPERM/);
    await assert.rejects(controller.keys("*"), /NOPERM/);
    await assert.rejects(controller.set("harbor-ha:othersite:controller:lease", "{}"), /NOPERM/);
  });

  test("an agent can do all it needs: its queue's worker, its observation, its lease, the controller's lease, Harbor's sealed secrets, the security events", async () => {
    const controller = as("controller");
    const lease = formatControllerLease({ holder: "test", token: 7, expiresAt: Date.now() + 60_000 });
    await controller.set(controllerLeaseKey(siteName), lease);

    const agent = as(agentRole("node01"));
    assert.equal(await agent.get(controllerLeaseKey(siteName)), lease);
    const json = JSON.stringify({ node: "node01" });
    const replies = await agent
      .multi()
      .set(observationKey(siteName, "node01"), json, "PX", 10_000)
      .publish(observationChannel(siteName), json)
      .exec();
    assert.deepEqual(
      replies?.map(([error]) => error),
      [null, null],
    );
    assert.equal(await agent.set(primaryLeaseKey(siteName, "node01"), json, "PX", 6_000), "OK");
    await controller.set(harborSecretsKey(siteName), "sealed");
    assert.equal(await agent.get(harborSecretsKey(siteName)), "sealed");
    assert.match((await agent.xadd(securityEventsKey(siteName), "*", "refused", "x")) ?? "", /^\d+-\d+$/);

    // BullMQ's own worker on the agent's queue, with the agent's login only.
    const workerConnection = openControlPlaneRedis(
      site.controlPlane,
      resolveRedisCredentials(site, agentRole("node01"), passwords),
    );
    open.push(workerConnection);
    const worker = new Worker(nodeQueueName("node01"), async (job) => ({ echoed: job.data }), {
      connection: workerConnection,
      prefix: queuePrefix(siteName),
    });
    const done = new Promise<unknown>((resolve, reject) => {
      worker.on("completed", (_job, result) => resolve(result));
      worker.on("failed", (_job, error) => reject(error));
      worker.on("error", reject);
    });
    await worker.waitUntilReady();
    const queue = new Queue(nodeQueueName("node01"), {
      connection: controller,
      prefix: queuePrefix(siteName),
    });
    await queue.add("ping", { n: 1 }, { removeOnComplete: 10 });
    assert.deepEqual(await done, { echoed: { n: 1 } });
    const counts = await new Queue(nodeQueueName("node01"), {
      connection: agent,
      prefix: queuePrefix(siteName),
    }).getJobCounts("waiting", "active");
    assert.deepEqual(counts, { waiting: 0, active: 0 });
    await worker.close();
    await queue.close();
  });

  test("a real agent with only its own password in its environment answers its queue and publishes observations", async () => {
    const agent = startCli(["agent", "--node", "node02", "--config", config, "--metrics-listen", "off"], {
      ...secrets,
      HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02: passwords.HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02,
    });
    agents.push(agent);
    await agent.waitFor(/"event":"agent.ready"/);
    const siteKey = await readSiteKey(site.security.siteKeyFile);
    const jobs = new NodeJobs(site, siteKey, resolveRedisCredentials(site, "controller", passwords));
    try {
      const { result } = await jobs.send("node02", "ping", { sentAt: Date.now() }, { waitMs: 15_000 });
      assert.equal(typeof result.agentPid, "number");
    } finally {
      await jobs.close();
    }
    // A job with the controller's Redis login but no signature: refused, and the refusal reaches
    // the security events through the agent's own append-only right (no NOPERM on the way).
    const controller = as("controller");
    const forged = await new Queue(nodeQueueName("node02"), {
      connection: controller,
      prefix: queuePrefix(siteName),
    }).add("postgres.promote", { fencingToken: 1 });
    let events: Array<[string, string[]]> = [];
    for (let i = 0; i < 100; i += 1) {
      events = (await controller.xrange(securityEventsKey(siteName), "-", "+")).filter(([, fields]) =>
        fields.includes(forged.id ?? "?"),
      );
      if (events.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const fields = events[0]?.[1] ?? [];
    assert.equal(fields[fields.indexOf("actor") + 1], "agent:node02", fields.join(" "));
    assert.equal(fields[fields.indexOf("reason") + 1], "not signed", fields.join(" "));
    const reader = as("controller");
    for (let i = 0; i < 100 && !(await reader.get(observationKey(siteName, "node02"))); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(await reader.get(observationKey(siteName, "node02")), "node02's observation was written");
    assert.doesNotMatch(agent.output(), /NOPERM/, "the agent was refused nothing it does");
  });

  test("an agent without its password in the environment refuses to start, naming the variable", async () => {
    const result = await runCli(
      ["agent", "--node", "node01", "--config", config, "--metrics-listen", "off"],
      secrets,
    );
    assert.notEqual(result.code, 0);
    assert.match(`${result.stdout}${result.stderr}`, /HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01/);
  });
});
