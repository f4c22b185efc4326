import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { AuditLog, auditStreamKey } from "../../jobs/audit-log.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";

const siteKey = siteKeyFromText(renderSiteKey(), "test");

describe("the audit log in a real Redis", () => {
  let redis: TestRedis;
  let client: Redis;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });

  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  test("entries come back newest first with who, what, where and the outcome, and survive a Redis restart", async () => {
    const log = new AuditLog(client, "auditsite", siteKey);
    await log.append({ actor: "U0ALICE", action: "/harbor status", outcome: "ok", where: "C0OPS" });
    await log.append({
      actor: "U0DAVE",
      action: "approve deploy",
      outcome: "refused: not-approver",
      detail: "request x",
    });
    assert.equal(await log.durable(), true, "the test Redis runs with appendonly, as the control plane must");
    await redis.restart();
    const entries = await log.recent(10);
    assert.deepEqual(
      entries.map(({ actor, action, outcome, where, detail }) => ({ actor, action, outcome, where, detail })),
      [
        {
          actor: "U0DAVE",
          action: "approve deploy",
          outcome: "refused: not-approver",
          where: undefined,
          detail: "request x",
        },
        { actor: "U0ALICE", action: "/harbor status", outcome: "ok", where: "C0OPS", detail: undefined },
      ],
    );
    assert.ok((entries[0]?.at ?? 0) >= (entries[1]?.at ?? Infinity));
  });

  test("the stream is trimmed to its size and its age", async () => {
    const bySize = new AuditLog(client, "sizesite", siteKey, { maxEntries: 100, maxAgeDays: 365 });
    for (let i = 0; i < 350; i++)
      await bySize.append({ actor: "cli:root", action: `entry ${i}`, outcome: "ok" });
    const length = await client.xlen(auditStreamKey("sizesite"));
    // "~" trims whole stream nodes (100 entries here): never below the limit, never far above it.
    assert.ok(length >= 100 && length <= 200, `${length} entries kept`);
    assert.equal((await bySize.recent(1))[0]?.action, "entry 349");

    const byAge = new AuditLog(client, "agesite", siteKey, { maxEntries: 100_000, maxAgeDays: 365 });
    for (let i = 0; i < 150; i++)
      await byAge.append({ actor: "cli:root", action: `old ${i}`, outcome: "ok" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const young = new AuditLog(client, "agesite", siteKey, {
      maxEntries: 100_000,
      maxAgeDays: 10 / 86_400_000,
    });
    await young.append({ actor: "cli:root", action: "new", outcome: "ok" });
    const left = await client.xlen(auditStreamKey("agesite"));
    assert.ok(left < 151, `entries older than the limit are trimmed (${left} of 151 left)`);
    assert.equal((await young.recent(1))[0]?.action, "new");
  });
});
