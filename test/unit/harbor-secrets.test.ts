/**
 * Harbor's shared secrets: made once by the control plane, the same files on every node.
 * Run with: node --import tsx --test test/unit/harbor-secrets.test.ts
 */
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { test } from "node:test";
import {
  generateHarborSecrets,
  HARBOR_SECRET_LENGTHS,
  harborSecretFiles,
  harborSecretsProblems,
  randomAlphanumeric,
} from "../../jobs/deploy/harbor-secrets.ts";

test("generates each secret at Harbor's length from letters and digits, and an RSA key Harbor can sign with", () => {
  const secrets = generateHarborSecrets({ rsaBits: 2048 });
  for (const [key, length] of Object.entries(HARBOR_SECRET_LENGTHS)) {
    const value = secrets[key as keyof typeof HARBOR_SECRET_LENGTHS];
    assert.match(value, new RegExp(`^[A-Za-z0-9]{${length}}$`), key);
  }
  const key = createPrivateKey(secrets.corePrivateKey);
  assert.equal(key.asymmetricKeyType, "rsa");
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  assert.deepEqual(harborSecretsProblems(secrets), []);
});

test("two sites get different secrets", () => {
  const a = generateHarborSecrets({ rsaBits: 1024 });
  const b = generateHarborSecrets({ rsaBits: 1024 });
  assert.notEqual(a.secretKey, b.secretKey);
  assert.notEqual(a.registryHttpSecret, b.registryHttpSecret);
  assert.notEqual(a.corePrivateKey, b.corePrivateKey);
});

test("random text skips the bytes that would bias the alphabet", () => {
  // 248..255 are above the largest multiple of 62 (248): they must be skipped, not wrapped.
  const bytes = [255, 250, 248, 0, 61, 62, 247];
  let offset = 0;
  const source = (size: number) =>
    Buffer.from(Array.from({ length: size }, () => bytes[offset++ % bytes.length] ?? 0));
  assert.equal(randomAlphanumeric(4, source), "A9A9");
});

test("a request without secrets, or with a broken key, is described field by field", () => {
  assert.deepEqual(harborSecretsProblems(undefined), ["the request carries no Harbor secrets"]);
  const secrets = generateHarborSecrets({ rsaBits: 1024 });
  assert.deepEqual(harborSecretsProblems({ ...secrets, csrfKey: "", corePrivateKey: "not a key" }), [
    "csrfKey is missing",
    "corePrivateKey is not a PEM private key",
  ]);
});

test("the secrets land where Harbor's prepare and the stand-in read them, under the data volume", () => {
  const secrets = generateHarborSecrets({ rsaBits: 1024 });
  assert.deepEqual(
    harborSecretFiles(secrets).map((file) => [file.path, file.content]),
    [
      ["secret/keys/secretkey", secrets.secretKey],
      ["secret/core/private_key.pem", secrets.corePrivateKey],
      ["secret/harbor-ha/core_secret", secrets.coreSecret],
      ["secret/harbor-ha/jobservice_secret", secrets.jobserviceSecret],
      ["secret/harbor-ha/csrf_key", secrets.csrfKey],
      ["secret/harbor-ha/registry_http_secret", secrets.registryHttpSecret],
    ],
  );
});
