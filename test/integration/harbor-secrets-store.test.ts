/**
 * Harbor's shared secrets in a real Redis: sealed at rest, the same for every deploy, a plaintext
 * record from an older version sealed on the next deploy (and left alone by a dry run).
 * Run with: node --import tsx --test test/integration/harbor-secrets-store.test.ts
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { isSealedRecord } from "../../config/site-key-seal.ts";
import { generateHarborSecrets } from "../../jobs/deploy/harbor-secrets.ts";
import {
  harborSecretsKey,
  loadOrCreateHarborSecrets,
  readHarborSecrets,
} from "../../jobs/deploy/harbor-secrets-store.ts";
import type { HarborSharedSecrets } from "../../jobs/deploy/step-contract.ts";
import { isHarborHaError } from "../../support/errors.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";

const siteKey = siteKeyFromText(renderSiteKey(), "test");
const generate = () => generateHarborSecrets({ rsaBits: 1024 });

/** Every string value in the Redis, to look for a secret in. */
async function everyValue(client: Redis): Promise<string> {
  const values: string[] = [];
  for (const key of await client.keys("*")) {
    const type = await client.type(key);
    if (type === "string") values.push((await client.get(key)) ?? "");
    if (type === "hash") values.push(...Object.values(await client.hgetall(key)));
  }
  return values.join("\n");
}

function leaked(all: string, secrets: HarborSharedSecrets): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => all.includes(value))
    .map(([name]) => name);
}

describe("Harbor's shared secrets in the control-plane Redis", () => {
  let redis: TestRedis;
  let client: Redis;
  let other: Redis;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    other = new Redis(redis.url);
  });

  after(async () => {
    client?.disconnect();
    other?.disconnect();
    await redis?.stop();
  });

  test("made once, sealed: two deploys racing get the same secrets, and Redis holds none of them", async () => {
    const [a, b] = await Promise.all([
      loadOrCreateHarborSecrets(client, "racesite", siteKey, generate),
      loadOrCreateHarborSecrets(other, "racesite", siteKey, generate),
    ]);
    assert.deepEqual(a.secrets, b.secrets);
    assert.equal(a.digest, b.digest);
    const stored = (await client.get(harborSecretsKey("racesite"))) ?? "";
    assert.equal(isSealedRecord(stored), true);
    assert.deepEqual(leaked(await everyValue(client), a.secrets), []);
    assert.deepEqual((await readHarborSecrets(client, "racesite", siteKey))?.secrets, a.secrets);
  });

  test("a plaintext record is left alone by a dry run and sealed, with the same secrets, by the next deploy", async () => {
    const old = generate();
    const key = harborSecretsKey("oldsite");
    await client.set(key, JSON.stringify(old));
    const dry = await readHarborSecrets(client, "oldsite", siteKey);
    assert.equal(dry?.plaintext, true);
    assert.equal(await client.get(key), JSON.stringify(old), "a dry run changes nothing");

    const stored = await loadOrCreateHarborSecrets(client, "oldsite", siteKey, generate);
    assert.equal(stored.migrated, true);
    assert.equal(stored.plaintext, false);
    assert.deepEqual(
      stored.secrets,
      old,
      "the site keeps its secrets: Harbor can still read what it encrypted",
    );
    assert.equal(isSealedRecord((await client.get(key)) ?? ""), true);
    assert.deepEqual(leaked(await everyValue(client), old), []);
    const again = await loadOrCreateHarborSecrets(client, "oldsite", siteKey, generate);
    assert.equal(again.migrated, false);
    assert.equal(again.digest, stored.digest);
  });

  test("a host with another site key gets a clear error, not secrets", async () => {
    await loadOrCreateHarborSecrets(client, "keysite", siteKey, generate);
    const wrong = siteKeyFromText(renderSiteKey(), "other");
    await assert.rejects(readHarborSecrets(client, "keysite", wrong), (error: unknown) => {
      assert.ok(isHarborHaError(error));
      assert.equal(error.code, "SEALED_RECORD_UNREADABLE");
      assert.match(error.message, /was sealed with site key \w+, and this host's site key is \w+/);
      assert.match(error.hint, /same site key/);
      return true;
    });
  });
});
