/**
 * Records sealed with the site key (config/site-key-seal.ts) and Harbor's secrets stored that way.
 * Run with: node --import tsx --test test/unit/site-key-seal.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderSiteKey, type SiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { isSealedRecord, openJson, SEALED_FORMAT, sealJson } from "../../config/site-key-seal.ts";
import { generateHarborSecrets } from "../../jobs/deploy/harbor-secrets.ts";
import { openHarborSecrets, sealHarborSecrets } from "../../jobs/deploy/harbor-secrets-store.ts";
import { HarborHaError } from "../../support/errors.ts";

const newKey = (): SiteKey => siteKeyFromText(renderSiteKey(), "test");
const scope = { purpose: "harbor-secrets", site: "lab" };
const options = { where: "harbor-ha:lab:harbor-secrets", recover: "restore it" };
const secrets = generateHarborSecrets({ rsaBits: 1024 });

function refusedWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof HarborHaError, String(error));
    assert.equal(error.code, "SEALED_RECORD_UNREADABLE");
    assert.match(error.message, pattern);
    assert.ok(error.hint.length > 0);
    return true;
  };
}

describe("a record sealed with the site key", () => {
  test("opens with the same key and site, and holds none of its plaintext", () => {
    const key = newKey();
    const text = sealJson(secrets, key, scope);
    assert.deepEqual(openJson(text, key, scope, options), secrets);
    assert.equal(isSealedRecord(text), true);
    const record = JSON.parse(text);
    assert.equal(record.format, SEALED_FORMAT);
    assert.equal(record.key, key.fingerprint);
    for (const value of Object.values(secrets)) assert.equal(text.includes(value), false);
    assert.equal(text.includes("PRIVATE KEY"), false);
  });

  test("takes a fresh nonce on every write: the same value seals to different texts", () => {
    const key = newKey();
    const [a, b] = [sealJson(secrets, key, scope), sealJson(secrets, key, scope)];
    assert.notEqual(JSON.parse(a).nonce, JSON.parse(b).nonce);
    assert.notEqual(JSON.parse(a).data, JSON.parse(b).data);
  });

  test("does not open with another site key, and says whose key sealed it", () => {
    const [key, other] = [newKey(), newKey()];
    const text = sealJson(secrets, key, scope);
    assert.throws(
      () => openJson(text, other, scope, options),
      refusedWith(
        new RegExp(
          `sealed with site key ${key.fingerprint}, and this host's site key is ${other.fingerprint}`,
        ),
      ),
    );
    // The fingerprint is only a label: rewritten to the other key's, the record still does not open.
    const relabelled = JSON.stringify({ ...JSON.parse(text), key: other.fingerprint });
    assert.throws(() => openJson(relabelled, other, scope, options), refusedWith(/does not decrypt/));
  });

  test("does not open once its ciphertext, nonce or tag is changed", () => {
    const key = newKey();
    const record = JSON.parse(sealJson(secrets, key, scope));
    const flip = (field: "data" | "nonce" | "tag") => {
      const bytes = Buffer.from(record[field], "base64url");
      bytes[3] = (bytes[3] ?? 0) ^ 1;
      return JSON.stringify({ ...record, [field]: bytes.toString("base64url") });
    };
    for (const field of ["data", "nonce", "tag"] as const) {
      assert.throws(
        () => openJson(flip(field), key, scope, options),
        refusedWith(/changed after it was sealed/),
      );
    }
  });

  test("does not open for another site, even with its label rewritten (the site is associated data)", () => {
    const key = newKey();
    const text = sealJson(secrets, key, { ...scope, site: "other" });
    assert.throws(
      () => openJson(text, key, scope, options),
      refusedWith(/sealed for harbor-secrets of site other/),
    );
    const relabelled = JSON.stringify({ ...JSON.parse(text), site: "lab" });
    assert.throws(() => openJson(relabelled, key, scope, options), refusedWith(/does not decrypt/));
  });

  test("a text that is no sealed record is refused as such", () => {
    assert.equal(isSealedRecord("{}"), false);
    assert.equal(isSealedRecord("not json"), false);
    assert.throws(() => openJson('{"a":1}', newKey(), scope, options), refusedWith(/is not a sealed record/));
  });
});

describe("Harbor's shared secrets at rest", () => {
  test("a sealed record opens to the same secrets; a plaintext one from an older version is flagged for sealing", () => {
    const key = newKey();
    const sealed = openHarborSecrets(sealHarborSecrets(secrets, "lab", key), "lab", key);
    assert.deepEqual(sealed.secrets, secrets);
    assert.equal(sealed.plaintext, false);
    const legacy = openHarborSecrets(JSON.stringify(secrets), "lab", key);
    assert.deepEqual(legacy.secrets, secrets);
    assert.equal(legacy.plaintext, true);
    // Migration: the plaintext's secrets sealed, then opened again, are the same secrets.
    const migrated = sealHarborSecrets(legacy.secrets, "lab", key);
    assert.equal(migrated.includes(secrets.coreSecret), false);
    assert.deepEqual(openHarborSecrets(migrated, "lab", key).secrets, secrets);
  });

  test("a record that holds no secrets is refused with the key it was read from", () => {
    assert.throws(
      () => openHarborSecrets('{"secretKey":"x"}', "lab", newKey()),
      refusedWith(/harbor-ha:lab:harbor-secrets holds no Harbor secrets: coreSecret is missing/),
    );
  });
});
