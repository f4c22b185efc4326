/**
 * The audit chain in a real Redis: writers appending at once make one chain, and
 * `harbor-ha history --verify` (the real CLI) finds what someone with Redis access but without
 * the site key did to it. Run with: node --import tsx --test test/integration/audit-chain.test.ts
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { readSiteKey, type SiteKey } from "../../config/site-key.ts";
import { AuditLog, auditStreamKey } from "../../jobs/audit-log.ts";
import { runCli } from "../support/processes.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";
import { loopbackSiteYaml } from "../support/site-fixtures.ts";
import { testSiteKeyFile } from "../support/test-site-key.ts";

describe("the audit chain in a real Redis", () => {
  let redis: TestRedis;
  let client: Redis;
  let siteKey: SiteKey;
  let dir: string;
  const clients: Redis[] = [];

  const configFor = (site: string) => {
    const file = join(dir, `${site}.yaml`);
    writeFileSync(file, loopbackSiteYaml(site, redis.url));
    return file;
  };
  const verifyCli = (site: string) => runCli(["history", "--verify", "--config", configFor(site)]);
  const newLog = (site: string) => {
    const connection = new Redis(redis.url);
    clients.push(connection);
    return new AuditLog(connection, site, siteKey);
  };

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    siteKey = await readSiteKey(testSiteKeyFile());
    dir = mkdtempSync(join(tmpdir(), "harbor-ha-audit-chain-"));
  });

  after(async () => {
    for (const connection of [client, ...clients]) connection?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("four writers appending at once (bots, the CLI, agents) make one whole chain", async () => {
    const writers = [newLog("busysite"), newLog("busysite"), newLog("busysite"), newLog("busysite")];
    await Promise.all(
      writers.flatMap((log, writer) =>
        Array.from({ length: 25 }, (_, i) =>
          log.append({ actor: `writer${writer}`, action: `entry ${i}`, outcome: "ok" }),
        ),
      ),
    );
    const report = await writers[0]?.verify();
    assert.ok(report);
    assert.deepEqual(report.breaks, []);
    assert.equal(report.chained, 100);
    assert.equal(await client.xlen(auditStreamKey("busysite")), 100);
  });

  test("`harbor-ha history --verify` exits 0 on a whole chain, and 1 naming the entry after which one was deleted", async () => {
    const log = newLog("xdelsite");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await log.append({ actor: "U0ALICE", action: `step ${i}`, outcome: "ok" }));
    const whole = await verifyCli("xdelsite");
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /^audit chain of xdelsite verified: 5 chained entries from /);

    // An attacker with Redis access removes the entry that recorded what they did.
    assert.equal(await client.xdel(auditStreamKey("xdelsite"), ids[2] ?? ""), 1);
    const broken = await verifyCli("xdelsite");
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stdout, /^audit chain of xdelsite BROKEN: 1 break in 4 entries/);
    assert.ok(
      broken.stdout.includes(
        `break (deleted): entries were deleted after ${ids[1]}: the next entry ${ids[3]} follows ${ids[2]}, which is gone`,
      ),
      broken.stdout,
    );
  });

  test("a stream rebuilt with one entry changed, and an entry XADDed without the key, are both found", async () => {
    const log = newLog("editsite");
    const key = auditStreamKey("editsite");
    for (let i = 0; i < 4; i++) await log.append({ actor: "U0ALICE", action: `step ${i}`, outcome: "ok" });
    // Entries cannot be edited in place: the attacker rebuilds the stream with the same ids.
    const rows = await client.xrange(key, "-", "+");
    const edited = rows[1]?.[0] ?? "";
    await client.del(key);
    for (const [id, fields] of rows) {
      const values = id === edited ? fields.map((v) => (v === "U0ALICE" ? "U0MALLORY" : v)) : fields;
      await client.xadd(key, id, ...values);
    }
    const forged = await client.xadd(key, "*", "actor", "U0MALLORY", "action", "approve", "outcome", "ok");
    const report = await log.verify();
    assert.deepEqual(
      report.breaks.map((b) => [b.kind, b.id]),
      [
        ["changed", edited],
        ["unsigned", forged],
      ],
    );
    const cli = await verifyCli("editsite");
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, new RegExp(`entry ${edited} does not match its hash`));
    assert.match(
      cli.stdout,
      new RegExp(`entry ${forged} carries no chain fields: it was added without the site key`),
    );
  });

  test("entries from before the chain are reported unchained, and a trimmed head is no break", async () => {
    const key = auditStreamKey("oldsite");
    await client.xadd(key, "*", "actor", "U0BOB", "action", "/harbor status", "outcome", "ok");
    const log = newLog("oldsite");
    await log.append({ actor: "U0ALICE", action: "/harbor deploy", outcome: "ok" });
    const cli = await verifyCli("oldsite");
    assert.equal(cli.code, 0, cli.stdout);
    assert.match(cli.stdout, /verified: 1 chained entries/);
    assert.match(cli.stdout, /1 unchained entries at the start \(written before the chain existed\)/);

    const small = new AuditLog(client, "trimsite", siteKey, { maxEntries: 100, maxAgeDays: 365 });
    for (let i = 0; i < 350; i++)
      await small.append({ actor: "cli:root", action: `entry ${i}`, outcome: "ok" });
    const trimmed = await small.verify();
    assert.ok(trimmed.entries < 350, `${trimmed.entries} entries kept`);
    assert.deepEqual(trimmed.breaks, []);
    assert.ok(trimmed.trimmedBefore, "the report says the head was trimmed");
  });
});
