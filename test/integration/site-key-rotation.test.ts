import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { parseSiteConfig } from "../../config/load.ts";
import { previousSiteKeyFile, readSiteKey, type SiteKey } from "../../config/site-key.ts";
import { AuditLog } from "../../jobs/audit-log.ts";
import { controllerLeaseKey, formatControllerLease } from "../../jobs/controller-lease-key.ts";
import { generateHarborSecrets } from "../../jobs/deploy/harbor-secrets.ts";
import {
  harborSecretsKey,
  loadOrCreateHarborSecrets,
  openHarborSecrets,
} from "../../jobs/deploy/harbor-secrets-store.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { loopbackSite } from "../support/loopback-site.ts";
import { type Background, runCli, startCli } from "../support/processes.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";

/**
 * `harbor-ha site-key rotate` as an operator runs it, against a real Redis and a real agent that
 * keeps running through the rotation.
 */
describe("rotating the site key", () => {
  const site = "rotatetest";
  const secrets = {
    HARBOR_HA_PG_PASSWORD: "pg-secret",
    HARBOR_HA_REPLICATION_PASSWORD: "repl-secret",
    HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin-secret",
  };
  let redis: TestRedis;
  let client: Redis;
  let dir: string;
  let config: string;
  let keyFile: string;
  let oldKey: SiteKey;
  let agent: Background | undefined;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-rotate-"));
    const loopback = await loopbackSite({ site, redisUrl: redis.url, dir });
    config = join(dir, "site.yaml");
    writeFileSync(config, loopback.yaml);
    keyFile = loopback.siteKeyFile;
    oldKey = await readSiteKey(keyFile);
    await loadOrCreateHarborSecrets(client, site, oldKey, () => generateHarborSecrets({ rsaBits: 1024 }));
    const audit = new AuditLog(client, site, oldKey);
    for (const action of ["/harbor status", "/harbor switchover"]) {
      await audit.append({ actor: "U0ALICE", action, outcome: "ok", where: "C0OPS" });
    }
    agent = startCli(["agent", "--node", "node02", "--config", config, "--metrics-listen", "off"], secrets);
    await agent.waitFor(/"event":"agent.ready"/);
  });

  after(async () => {
    await agent?.stop("SIGKILL");
    client?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("refused while a bot holds the controller lease: the key file and Harbor's record unchanged", async () => {
    const recordBefore = await client.get(harborSecretsKey(site));
    await client.set(
      controllerLeaseKey(site),
      formatControllerLease({ holder: "bot@ops:42", token: 3, expiresAt: Date.now() + 30_000 }),
      "PX",
      30_000,
    );
    try {
      const result = await runCli(["--config", config, "site-key", "rotate"]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /a bot is running: bot@ops:42 holds the controller lease/);
      assert.match(result.stderr, /stop every `harbor-ha bot`/);
    } finally {
      await client.del(controllerLeaseKey(site));
    }
    assert.equal((await readSiteKey(keyFile)).fingerprint, oldKey.fingerprint);
    assert.equal(await client.get(harborSecretsKey(site)), recordBefore);
  });

  test("rotate: a new key, Harbor's secrets sealed with it, the old key kept, the chain still verifies", async () => {
    const secretsBefore = openHarborSecrets(
      (await client.get(harborSecretsKey(site))) ?? "",
      site,
      oldKey,
    ).secrets;
    const result = await runCli(["--config", config, "site-key", "rotate", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const rotated = JSON.parse(result.stdout) as { from: string; to: string; harborSecrets: string };
    const newKey = await readSiteKey(keyFile);
    assert.deepEqual(rotated.from, oldKey.fingerprint);
    assert.deepEqual(rotated.to, newKey.fingerprint);
    assert.notEqual(newKey.fingerprint, oldKey.fingerprint);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const kept = previousSiteKeyFile(keyFile, oldKey.fingerprint);
    assert.equal(statSync(kept).mode & 0o777, 0o600);
    assert.equal((await readSiteKey(kept)).fingerprint, oldKey.fingerprint);

    assert.equal(rotated.harborSecrets, "resealed");
    const record = (await client.get(harborSecretsKey(site))) ?? "";
    assert.deepEqual(openHarborSecrets(record, site, newKey).secrets, secretsBefore, "the same secrets");
    assert.throws(
      () => openHarborSecrets(record, site, oldKey),
      new RegExp(`was sealed with site key ${newKey.fingerprint}`),
    );

    await new AuditLog(client, site, newKey).append({
      actor: "U0BOB",
      action: "/harbor status",
      outcome: "ok",
    });
    const verified = await runCli(["--config", config, "history", "--verify"]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /verified: 4 chained entries/);
    const history = await runCli(["--config", config, "history", "--count", "2"]);
    assert.match(history.stdout, /site-key\.rotated -> ok {2}\(from [0-9a-f]{12} to [0-9a-f]{12}\)/);

    // Without the kept old key the older entries cannot be verified, and the check says which.
    renameSync(kept, `${kept}.away`);
    try {
      const unverifiable = await runCli(["--config", config, "history", "--verify"]);
      assert.equal(unverifiable.code, 1);
      assert.equal(unverifiable.stdout.match(/break \(changed\)/g)?.length, 3, unverifiable.stdout);
    } finally {
      renameSync(`${kept}.away`, kept);
    }
  });

  test("the agent that ran through the rotation takes the new key up: a job signed with it is answered", async () => {
    const { site: siteConfig } = parseSiteConfig(readFileSync(config, "utf8"), config);
    const newKey = await readSiteKey(keyFile);
    const jobs = new NodeJobs(siteConfig, newKey, { role: "controller" });
    try {
      const { result } = await jobs.send("node02", "ping", { sentAt: Date.now() }, { waitMs: 15_000 });
      assert.equal(result.node, "node02");
    } finally {
      await jobs.close();
    }
    assert.match(
      agent?.output() ?? "",
      new RegExp(`"event":"site-key.reloaded".*"fingerprint":"${newKey.fingerprint}"`),
    );
    // And one signed with the old key is now refused: the rotation retired it.
    const stale = new NodeJobs(siteConfig, oldKey, { role: "controller" });
    try {
      await assert.rejects(
        stale.send("node02", "ping", { sentAt: Date.now() }, { waitMs: 15_000 }),
        /job refused: bad signature/,
      );
    } finally {
      await stale.close();
    }
  });
});
