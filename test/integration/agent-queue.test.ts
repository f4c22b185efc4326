import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { readSiteKey, type SiteKey } from "../../config/site-key.ts";
import { deployLock } from "../../jobs/deploy/deploy-lock.ts";
import { queueEventsFromNow } from "../../jobs/queue-events.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { addSigned } from "../../jobs/signing/signed-add.ts";
import { loopbackSite } from "../support/loopback-site.ts";
import { type Background, runCli, startCli } from "../support/processes.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";
import { siteYamlWith } from "../support/site-fixtures.ts";

/**
 * Real agents (the CLI, as separate processes) against a real redis-server of the test's own.
 * The nodes' Docker sockets do not exist here: a ping must still answer, saying Docker is down.
 */
describe("agents on BullMQ with a real Redis", () => {
  let redis: TestRedis;
  let dir: string;
  let config: string;
  let siteKey: SiteKey;
  const agents: Background[] = [];
  const site = "agenttest";

  const secrets = {
    HARBOR_HA_PG_PASSWORD: "pg-secret",
    HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
    HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
  };
  const startAgent = async (node: string) => {
    const agent = startCli(["agent", "--node", node, "--config", config, "--metrics-listen", "off"], secrets);
    agents.push(agent);
    await agent.waitFor(/"event":"agent.ready"/);
    return agent;
  };
  const queueFor = async (node: string) => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const eventsConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(nodeQueueName(node), { connection, prefix: queuePrefix(site) });
    const events = await queueEventsFromNow(
      nodeQueueName(node),
      queuePrefix(site),
      connection,
      eventsConnection,
    );
    return {
      queue,
      events,
      async close() {
        await Promise.all([queue.close(), events.close()]);
        // BullMQ leaves connections it was given open.
        connection.disconnect();
        eventsConnection.disconnect();
      },
    };
  };

  before(async () => {
    redis = await startTestRedis();
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-agent-"));
    config = join(dir, "site.yaml");
    // Loopback addresses and sockets that do not exist: the agents' probes stay on this machine.
    const loopback = await loopbackSite({ site, redisUrl: redis.url, dir });
    writeFileSync(config, loopback.yaml);
    siteKey = await readSiteKey(loopback.siteKeyFile);
  });

  after(async () => {
    await Promise.all(agents.map((agent) => agent.stop("SIGKILL")));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("`nodes ping` gets an answer from every node's agent through Redis", async () => {
    const [first, second] = [await startAgent("node01"), await startAgent("node02")];
    const result = await runCli(["nodes", "ping", "--json", "--config", config]);
    assert.equal(result.code, 0, result.stderr);
    const answers = JSON.parse(result.stdout) as Array<{
      node: string;
      ok: boolean;
      outcome: { result: Record<string, unknown> };
    }>;
    assert.deepEqual(
      answers.map((a) => [a.node, a.ok]),
      [
        ["node01", true],
        ["node02", true],
      ],
    );
    const pong = answers[1]?.outcome.result;
    assert.equal(pong?.node, "node02");
    assert.equal(pong?.agentPid, second.child.pid);
    assert.equal(pong?.dockerVersion, null, "the node's Docker socket does not exist: reported, not thrown");
    assert.match(String(pong?.dockerError), /ENOENT/);
    assert.equal(typeof pong?.hostUptimeSeconds, "number");
    assert.equal(await first.stop("SIGTERM"), 0, "SIGTERM stops an idle agent cleanly");
    assert.equal(await second.stop("SIGTERM"), 0);
  });

  test("a silent node is named in `nodes ping` and the exit code says so", async () => {
    const result = await runCli(["nodes", "ping", "--wait", "1500", "--config", config]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /node01 .* FAIL .*no answer from node01 within 1500 ms/);
  });

  test("a job queued while the agent is down survives a Redis restart and runs when it returns", async () => {
    const client = await queueFor("node01");
    try {
      const job = await addSigned(
        client.queue,
        siteKey,
        "ping",
        { sentAt: Date.now() },
        {
          jobId: "queued-across-restart",
          lifetimeMs: 30_000,
        },
      );
      await client.queue.close();
      await redis.restart();
      await startAgent("node01");
      const fresh = await queueFor("node01");
      try {
        const kept = await fresh.queue.getJob("queued-across-restart");
        assert.ok(kept, "the job is still in Redis after the restart");
        const result = (await kept.waitUntilFinished(fresh.events, 20_000)) as { node: string };
        assert.equal(result.node, "node01");
        assert.equal(job.id, kept.id);
      } finally {
        await fresh.close();
      }
    } finally {
      await client.close().catch(() => {});
    }
  });

  test("a running agent rides through a Redis restart", async () => {
    await redis.restart();
    const result = await runCli([
      "nodes",
      "ping",
      "--node",
      "node01",
      "--json",
      "--wait",
      "15000",
      "--config",
      config,
    ]);
    const answers = JSON.parse(result.stdout) as Array<{ node: string; ok: boolean }>;
    assert.deepEqual(answers, [{ ...answers[0], node: "node01", ok: true }], result.stdout);
  });

  test("an unknown job is refused at once and never retried", async () => {
    const client = await queueFor("node01");
    try {
      const job = await client.queue.add(
        "format-disk",
        {},
        { attempts: 3, backoff: { type: "fixed", delay: 10 } },
      );
      await assert.rejects(job.waitUntilFinished(client.events, 10_000), /unknown job format-disk/);
      const failed = await client.queue.getJob(job.id ?? "");
      assert.equal(failed?.attemptsMade, 1, "no retry of a job this agent does not know");
    } finally {
      await client.close();
    }
  });

  test("an agent for a node the site does not have refuses to start", async () => {
    const result = await runCli(["agent", "--node", "node09", "--config", config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no node named node09 .*\n.*hint: pass one of: node01, node02/);
  });

  test("an agent without the secrets its site names refuses to start, naming them", async () => {
    const result = await runCli(["agent", "--node", "node01", "--config", config], {
      ...secrets,
      HARBOR_HA_REPLICATION_PASSWORD: "",
    });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /missing secrets: HARBOR_HA_REPLICATION_PASSWORD \(named by postgres.replication.passwordEnv\)/,
    );
  });

  test("an agent without a readable site key refuses to start, naming the file", async () => {
    const missing = join(dir, "elsewhere", "site.key");
    const keyless = join(dir, "keyless.yaml");
    const yaml = (
      await loopbackSite({
        site,
        redisUrl: redis.url,
        dir,
        changes: [[["security", "siteKeyFile"], missing]],
      })
    ).yaml;
    writeFileSync(keyless, yaml);
    const result = await runCli(["agent", "--node", "node01", "--config", keyless], secrets);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`cannot read the site key ${missing}: ENOENT`));
    assert.match(result.stderr, /hint: the first `harbor-ha deploy` makes it on the operations host/);
  });

  test("the first deploy makes the site key on the operations host and prints its fingerprint; a deploy under another's lock is refused", async () => {
    const file = join(dir, "ops-host", "site.key");
    const fresh = join(dir, "fresh-site.yaml");
    const yaml = (
      await loopbackSite({ site, redisUrl: redis.url, dir, changes: [[["security", "siteKeyFile"], file]] })
    ).yaml;
    writeFileSync(fresh, yaml);
    // No agent and no sshd answer here: the deploy fails at its first step, after making the key.
    const first = await runCli(["deploy", "--config", fresh], secrets, 120_000);
    const key = await readSiteKey(file);
    assert.match(first.stdout, new RegExp(`made the site key ${file} \\(fingerprint ${key.fingerprint}\\)`));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const client = new Redis(redis.url);
    try {
      const lock = deployLock(client, site);
      assert.equal(await lock.current(), undefined, "the failed deploy released its lock");
      const held = await lock.acquire("U0ALICE", "deploy (request ab12cd)", 60_000);
      assert.ok(held.ok);
      const second = await runCli(["deploy", "--config", fresh], secrets, 120_000);
      assert.notEqual(second.code, 0);
      assert.match(
        second.stdout + second.stderr,
        /U0ALICE is deploying since .* \(deploy \(request ab12cd\)\)/,
      );
      assert.doesNotMatch(second.stdout, /made the site key/);
      assert.equal((await lock.current())?.token, held.holder.token, "the holder's lock is left alone");
      assert.deepEqual((await readSiteKey(file)).bytes, key.bytes, "made once, kept after");
    } finally {
      client.disconnect();
    }
  });

  test("an agent with a broken config exits 2 and names the line", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, siteYamlWith([[["nodes", 0, "address"], "not-an-ip"]]));
    const result = await runCli(["agent", "--node", "node01", "--config", broken]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken\.yaml:\d+ nodes\[0\]\.address: not an IPv4 address/);
  });
});
