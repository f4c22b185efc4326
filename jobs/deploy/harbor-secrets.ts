import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { HarborSharedSecrets } from "./step-contract.ts";

/**
 * The secrets every Harbor instance of a site must share. Harbor's prepare makes them at random
 * on each host; with two instances behind one VIP they must be equal, or a password encrypted by
 * one core cannot be read by the other (secretkey), a token signed by one is refused by the
 * other's registry (core private key), a session breaks when the VIP moves (CSRF key), and an
 * upload begun on one node cannot finish on the other (registry http.secret, LAB.md pitfall 15).
 */

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Harbor's own lengths (prepare's generate_random_string calls); secretkey is an AES-128 key. */
export const HARBOR_SECRET_LENGTHS = {
  secretKey: 16,
  coreSecret: 16,
  jobserviceSecret: 16,
  csrfKey: 32,
  registryHttpSecret: 16,
} as const;

export type RandomSource = (size: number) => Buffer;

/** Uniform over the alphabet: bytes at or above the largest multiple of its size are skipped. */
export function randomAlphanumeric(length: number, random: RandomSource = randomBytes): string {
  const limit = 256 - (256 % ALPHANUMERIC.length);
  let text = "";
  while (text.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < limit && text.length < length) text += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
  }
  return text;
}

export interface GenerateHarborSecretsOptions {
  readonly random?: RandomSource;
  /** Harbor's prepare uses 4096-bit RSA for the token-signing key. */
  readonly rsaBits?: number;
}

/** Generated once per site by the control plane, which keeps them and sends them to each node. */
export function generateHarborSecrets(options: GenerateHarborSecretsOptions = {}): HarborSharedSecrets {
  const random = options.random ?? randomBytes;
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: options.rsaBits ?? 4096,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return {
    secretKey: randomAlphanumeric(HARBOR_SECRET_LENGTHS.secretKey, random),
    coreSecret: randomAlphanumeric(HARBOR_SECRET_LENGTHS.coreSecret, random),
    jobserviceSecret: randomAlphanumeric(HARBOR_SECRET_LENGTHS.jobserviceSecret, random),
    csrfKey: randomAlphanumeric(HARBOR_SECRET_LENGTHS.csrfKey, random),
    registryHttpSecret: randomAlphanumeric(HARBOR_SECRET_LENGTHS.registryHttpSecret, random),
    corePrivateKey: privateKey,
  };
}

/** What is wrong with a payload that should carry the shared secrets; empty when it is fine. */
export function harborSecretsProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return ["the request carries no Harbor secrets"];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of [...Object.keys(HARBOR_SECRET_LENGTHS), "corePrivateKey"]) {
    const field = record[key];
    if (typeof field !== "string" || field.length === 0) problems.push(`${key} is missing`);
  }
  const pem = record.corePrivateKey;
  if (typeof pem === "string" && pem.length > 0 && !/^-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) {
    problems.push("corePrivateKey is not a PEM private key");
  }
  return problems;
}

/** A file of the shared secrets, relative to Harbor's data_volume. */
export interface HarborSecretFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Where the secrets go under Harbor's data_volume. secretkey and the core key are where Harbor's
 * prepare looks for them (it keeps files that exist); the four that Harbor's prepare would
 * regenerate on every run are kept under secret/harbor-ha/, from where the stand-in's prepare
 * reads them (for the real installer they are patched into common/config/*\/env after prepare).
 */
export function harborSecretFiles(secrets: HarborSharedSecrets): HarborSecretFile[] {
  return [
    { path: "secret/keys/secretkey", content: secrets.secretKey },
    { path: "secret/core/private_key.pem", content: secrets.corePrivateKey },
    { path: "secret/harbor-ha/core_secret", content: secrets.coreSecret },
    { path: "secret/harbor-ha/jobservice_secret", content: secrets.jobserviceSecret },
    { path: "secret/harbor-ha/csrf_key", content: secrets.csrfKey },
    { path: "secret/harbor-ha/registry_http_secret", content: secrets.registryHttpSecret },
  ];
}
