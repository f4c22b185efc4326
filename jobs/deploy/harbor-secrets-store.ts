import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { SiteKey } from "../../config/site-key.ts";
import { isSealedRecord, openJson, type SealScope, sealJson } from "../../config/site-key-seal.ts";
import { HarborHaError } from "../../support/errors.ts";
import { queuePrefix } from "../queue-names.ts";
import { harborSecretsProblems } from "./harbor-secrets.ts";
import type { HarborSharedSecrets } from "./step-contract.ts";

/**
 * Harbor's shared secrets are made once per site and kept by the control plane in Redis, so every
 * node, now and after a re-install, gets the same ones. They are kept sealed with the site key
 * (config/site-key-seal.ts): Redis holds ciphertext only, and a deploy step's payload carries no
 * secret, only the digest of the record the agent is to read and open with its own copy of the key.
 */

/** The one Redis key agents read (GET, read-only) besides their queue's. */
export function harborSecretsKey(site: string): string {
  return `${queuePrefix(site)}:harbor-secrets`;
}

function scope(site: string): SealScope {
  return { purpose: "harbor-secrets", site };
}

/** What the deploy knows of the stored record: the secrets, and the digest a step names it by. */
export interface StoredHarborSecrets {
  readonly secrets: HarborSharedSecrets;
  /** SHA-256 (hex) of the stored text; not secret, it is a digest of ciphertext. */
  readonly digest: string;
  /** Stored in plain JSON by an older version (rewritten sealed on the next deploy's apply). */
  readonly plaintext: boolean;
}

export function recordDigest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

const RECOVER =
  "restore the record from a backup of the control-plane Redis; the same secrets are also under each node's Harbor data_volume/secret/ (deleting the record makes new ones, and Harbor then cannot read what it encrypted with the old secretkey)";

/** Opens a stored record: sealed (today's), or plain JSON from a version before sealing. */
export function openHarborSecrets(text: string, site: string, siteKey: SiteKey): StoredHarborSecrets {
  const where = harborSecretsKey(site);
  if (isSealedRecord(text)) {
    const value = openJson(text, siteKey, scope(site), { where, recover: RECOVER });
    return { secrets: checked(value, where), digest: recordDigest(text), plaintext: false };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  return { secrets: checked(value, where), digest: recordDigest(text), plaintext: true };
}

function checked(value: unknown, where: string): HarborSharedSecrets {
  const problems = harborSecretsProblems(value);
  if (problems.length === 0) return value as HarborSharedSecrets;
  throw new HarborHaError(
    "SEALED_RECORD_UNREADABLE",
    `${where} holds no Harbor secrets: ${problems.join(", ")}`,
    {
      action: "read Harbor's shared secrets",
      hint: RECOVER,
      context: { record: where },
    },
  );
}

export function sealHarborSecrets(secrets: HarborSharedSecrets, site: string, siteKey: SiteKey): string {
  return sealJson(secrets, siteKey, scope(site));
}

// Replaces the plaintext only if it is still there: two deploys migrating at once keep one record.
const REPLACE_IF_UNCHANGED =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2]) end return false";

/**
 * The site's secrets, made (sealed) the first time; a plaintext record from an older version is
 * rewritten sealed. SET NX makes the first writer win when two deploys race.
 */
export async function loadOrCreateHarborSecrets(
  redis: Redis,
  site: string,
  siteKey: SiteKey,
  generate: () => HarborSharedSecrets,
): Promise<StoredHarborSecrets & { readonly migrated: boolean }> {
  const key = harborSecretsKey(site);
  let stored = await redis.get(key);
  if (stored === null) {
    await redis.set(key, sealHarborSecrets(generate(), site, siteKey), "NX");
    stored = await redis.get(key);
  }
  if (stored === null) throw new Error(`${key} vanished right after it was written`);
  const opened = openHarborSecrets(stored, site, siteKey);
  if (!opened.plaintext) return { ...opened, migrated: false };
  await redis.eval(REPLACE_IF_UNCHANGED, 1, key, stored, sealHarborSecrets(opened.secrets, site, siteKey));
  const sealed = await redis.get(key);
  if (sealed === null) throw new Error(`${key} vanished while it was sealed`);
  return { ...openHarborSecrets(sealed, site, siteKey), migrated: true };
}

/** The stored secrets, if a deploy made them already; for a dry run, which must not create them. */
export async function readHarborSecrets(
  redis: Redis,
  site: string,
  siteKey: SiteKey,
): Promise<StoredHarborSecrets | undefined> {
  const stored = await redis.get(harborSecretsKey(site));
  return stored === null ? undefined : openHarborSecrets(stored, site, siteKey);
}

/** What a re-seal did, and how to undo it (a rotation that fails later puts the old record back). */
export interface Reseal {
  readonly status: "resealed" | "absent";
  /** The record as it was, for undo(). */
  readonly before?: string;
  undo(): Promise<void>;
}

/**
 * Seals the stored record again with the next site key (a rotation). Replaced only if nobody
 * changed it meanwhile; a record that is no longer the one read is an error, never overwritten.
 */
export async function resealHarborSecrets(
  redis: Redis,
  site: string,
  from: SiteKey,
  to: SiteKey,
): Promise<Reseal> {
  const key = harborSecretsKey(site);
  const before = await redis.get(key);
  if (before === null) return { status: "absent", undo: async () => {} };
  const { secrets } = openHarborSecrets(before, site, from);
  const after = sealHarborSecrets(secrets, site, to);
  if ((await redis.eval(REPLACE_IF_UNCHANGED, 1, key, before, after)) === null) {
    throw new HarborHaError("SEALED_RECORD_CHANGED", `${key} changed while it was sealed again`, {
      action: "re-seal Harbor's shared secrets with the new site key",
      hint: "another deploy wrote it at the same moment: run the rotation again once it is done",
      context: { record: key },
    });
  }
  return {
    status: "resealed",
    before,
    undo: async () => {
      await redis.eval(REPLACE_IF_UNCHANGED, 1, key, after, before);
    },
  };
}
