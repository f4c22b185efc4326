import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { HarborHaError } from "../support/errors.ts";
import type { SiteKey } from "./site-key.ts";

/**
 * A record sealed with the site key, for secrets the control plane must keep in Redis (Harbor's
 * shared secrets): whoever can read Redis but has no site key reads nothing, and whoever can
 * write Redis cannot make a record that opens. AES-256-GCM with a key derived by HKDF for one
 * purpose (so the key that seals Harbor's secrets is not the one that signs jobs or chains the
 * audit log), a fresh 96-bit nonce per write, and the purpose and site bound as associated data,
 * so a record copied from another site or another purpose does not open.
 */
export const SEALED_FORMAT = "harbor-ha.sealed.v1";

/** The record as stored: JSON, every binary field base64url. Nothing in it is secret. */
export interface SealedRecord {
  readonly format: typeof SEALED_FORMAT;
  readonly alg: "A256GCM";
  readonly purpose: string;
  /** Which site it was sealed for; bound as associated data, here only to word an error. */
  readonly site: string;
  /** The site key's fingerprint, to tell "another key" from "tampered" in the error. */
  readonly key: string;
  readonly nonce: string;
  readonly data: string;
  readonly tag: string;
}

export interface SealScope {
  /** What the record is, e.g. "harbor-secrets"; also the HKDF label. */
  readonly purpose: string;
  readonly site: string;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A key of its own for each purpose: HKDF-SHA256 over the site key, the purpose as the label. */
export function purposeKey(siteKey: SiteKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", siteKey.bytes, SEALED_FORMAT, `harbor-ha ${purpose}`, 32));
}

function associatedData(scope: SealScope): Buffer {
  return Buffer.from(`${SEALED_FORMAT}\n${scope.purpose}\n${scope.site}`, "utf8");
}

export function sealJson(
  value: unknown,
  siteKey: SiteKey,
  scope: SealScope,
  nonce: Buffer = randomBytes(NONCE_BYTES),
): string {
  const cipher = createCipheriv("aes-256-gcm", purposeKey(siteKey, scope.purpose), nonce);
  cipher.setAAD(associatedData(scope));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  const record: SealedRecord = {
    format: SEALED_FORMAT,
    alg: "A256GCM",
    purpose: scope.purpose,
    site: scope.site,
    key: siteKey.fingerprint,
    nonce: nonce.toString("base64url"),
    data: data.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
  };
  return JSON.stringify(record);
}

/** Whether a stored text is a sealed record at all (an older version stored plain JSON). */
export function isSealedRecord(text: string): boolean {
  try {
    return (JSON.parse(text) as { format?: unknown })?.format === SEALED_FORMAT;
  } catch {
    return false;
  }
}

function unreadable(where: string, message: string, hint: string, context: Record<string, unknown>) {
  return new HarborHaError("SEALED_RECORD_UNREADABLE", `${where} ${message}`, {
    action: "open a record sealed with the site key",
    hint,
    context: { record: where, ...context },
  });
}

export interface OpenOptions {
  /** The record's name in the error (its Redis key). */
  readonly where: string;
  /** What the operator can do when the record itself is bad (changed, foreign): the hint's end. */
  readonly recover: string;
}

/**
 * The value inside a sealed record. Every way it can fail is a SEALED_RECORD_UNREADABLE whose
 * message says which one: another site key, another site, or a record that was changed.
 */
export function openJson(text: string, siteKey: SiteKey, scope: SealScope, options: OpenOptions): unknown {
  const { where, recover } = options;
  let record: Partial<SealedRecord>;
  try {
    record = JSON.parse(text) as Partial<SealedRecord>;
  } catch {
    record = {};
  }
  if (record?.format !== SEALED_FORMAT || record.alg !== "A256GCM") {
    throw unreadable(
      where,
      `is not a sealed record (${SEALED_FORMAT})`,
      `it was written by another program or by hand: ${recover}`,
      {},
    );
  }
  if (record.key !== siteKey.fingerprint) {
    throw unreadable(
      where,
      `was sealed with site key ${String(record.key)}, and this host's site key is ${siteKey.fingerprint}`,
      "every host must hold the same site key (security.siteKeyFile): copy the operations host's key to this host, mode 600",
      { sealedWith: record.key, siteKey: siteKey.fingerprint },
    );
  }
  if (record.site !== scope.site || record.purpose !== scope.purpose) {
    throw unreadable(
      where,
      `was sealed for ${String(record.purpose)} of site ${String(record.site)}, not ${scope.purpose} of ${scope.site}`,
      `someone copied a record between sites: ${recover}`,
      { sealedFor: record.site },
    );
  }
  const nonce = Buffer.from(record.nonce ?? "", "base64url");
  const tag = Buffer.from(record.tag ?? "", "base64url");
  try {
    if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new Error("bad lengths");
    const decipher = createDecipheriv("aes-256-gcm", purposeKey(siteKey, scope.purpose), nonce);
    decipher.setAAD(associatedData(scope));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([
      decipher.update(Buffer.from(record.data ?? "", "base64url")),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString("utf8"));
  } catch {
    throw unreadable(
      where,
      "does not decrypt: it was changed after it was sealed",
      `someone with write access to the control-plane Redis altered it: check who can write there (Redis ACLs); ${recover}`,
      {},
    );
  }
}
