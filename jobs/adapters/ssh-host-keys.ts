import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * SSH host keys as OpenSSH writes and prints them: `SHA256:` fingerprints (`ssh-keygen -lf`) and
 * known_hosts lines (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). Pure: text and key blobs in, answers out.
 */

/** A host's public key: its type (`ssh-ed25519`) and the key blob the server sends in its key exchange. */
export interface HostKey {
  readonly type: string;
  readonly blob: Buffer;
}

/** `ssh-keygen -lf`'s form: the unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** What `nodes[].ssh.hostKey` must look like: 32 bytes of SHA-256 are 43 unpadded base64 characters. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The type named inside a key blob (its first SSH string), or undefined for a malformed blob. */
export function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || 4 + length > blob.length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** `TYPE BASE64 [comment]` (a .pub file, or the end of a known_hosts line) as a key; undefined when malformed. */
export function parsePublicKey(text: string): HostKey | undefined {
  const [type, base64] = text.trim().split(/\s+/);
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, "base64");
  // The blob names its own type; a line whose two disagree was edited by hand or is corrupt.
  return blobType(blob) === type ? { type, blob } : undefined;
}

/** How OpenSSH names a host in known_hosts: the bare address on port 22, `[address]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface KnownHostsEntry {
  readonly line: number;
  /** `@revoked`: this key must never be accepted. `@cert-authority` lines are not supported and are skipped. */
  readonly revoked: boolean;
  /** The hosts field as written: comma-separated patterns, or one `|1|salt|hash` hashed name. */
  readonly hosts: string;
  readonly key: HostKey;
}

export interface KnownHostsProblem {
  readonly line: number;
  readonly message: string;
}

/** Every entry of a known_hosts file, and the lines that are not entries (reported, never fatal alone). */
export function parseKnownHosts(text: string): { entries: KnownHostsEntry[]; problems: KnownHostsProblem[] } {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === "" || fields[0]?.startsWith("#")) return;
    let revoked = false;
    if (fields[0]?.startsWith("@")) {
      const marker = fields.shift();
      if (marker === "@cert-authority") return;
      if (marker !== "@revoked") {
        problems.push({ line, message: `unknown marker ${marker}` });
        return;
      }
      revoked = true;
    }
    const hosts = fields.shift();
    const key = parsePublicKey(fields.join(" "));
    if (!hosts || !key) {
      problems.push({ line, message: "not HOSTS KEYTYPE BASE64-KEY" });
      return;
    }
    entries.push({ line, revoked, hosts, key });
  });
  return { entries, problems };
}

/** OpenSSH's pattern matching: `*` any run of characters, `?` exactly one. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${source}$`, "i").test(name);
}

function hashedNameMatches(hashed: string, name: string): boolean {
  const [, magic, salt, hash] = hashed.split("|");
  if (magic !== "1" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether an entry's hosts field names this host: a negated pattern (`!pattern`) that matches wins. */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith("|")) return hashedNameMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** A hashed name as `ssh-keygen -H` writes it; `salt` is 20 random bytes. */
export function hashKnownHostsName(name: string, salt: Buffer): string {
  const hash = createHmac("sha1", salt).update(name).digest("base64");
  return `|1|${salt.toString("base64")}|${hash}`;
}

/** One known_hosts line for a host, with a comment that says who wrote it. */
export function knownHostsLine(name: string, key: HostKey, comment: string): string {
  return `${name} ${key.type} ${key.blob.toString("base64")} ${comment}\n`;
}

/** What a node's host key is checked against: the config's pin and the known_hosts entries for it. */
export interface HostKeyPins {
  /** `nodes[].ssh.hostKey`, when set. */
  readonly fingerprint?: string;
  /** Entries of the node's known_hosts file that name it (revoked ones included). */
  readonly known: readonly KnownHostsEntry[];
}

export function pinsFor(
  fingerprint: string | undefined,
  entries: readonly KnownHostsEntry[],
  name: string,
): HostKeyPins {
  return {
    ...(fingerprint ? { fingerprint } : {}),
    known: entries.filter((entry) => hostsFieldMatches(entry.hosts, name)),
  };
}

/** The fingerprints a node's host key may have; empty when nothing is pinned (no trust on first use). */
export function acceptedFingerprints(pins: HostKeyPins): string[] {
  const accepted = pins.known.filter((entry) => !entry.revoked).map((entry) => fingerprintOf(entry.key.blob));
  return [...new Set([...(pins.fingerprint ? [pins.fingerprint] : []), ...accepted])];
}

export type HostKeyVerdict =
  | { readonly kind: "trusted"; readonly seen: string }
  | { readonly kind: "unknown"; readonly seen: string }
  | { readonly kind: "mismatch"; readonly seen: string; readonly expected: readonly string[] }
  | { readonly kind: "revoked"; readonly seen: string };

/** Whether the key a server showed is the one pinned for it. */
export function judgeHostKey(pins: HostKeyPins, seen: HostKey): HostKeyVerdict {
  const fingerprint = fingerprintOf(seen.blob);
  const revoked = pins.known.some((entry) => entry.revoked && entry.key.blob.equals(seen.blob));
  if (revoked) return { kind: "revoked", seen: fingerprint };
  const expected = acceptedFingerprints(pins);
  if (expected.length === 0) return { kind: "unknown", seen: fingerprint };
  return expected.includes(fingerprint)
    ? { kind: "trusted", seen: fingerprint }
    : { kind: "mismatch", seen: fingerprint, expected };
}

/** The host key algorithms ssh2 speaks, in its order of preference. */
const SSH2_HOST_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
] as const;
export type HostKeyAlgorithm = (typeof SSH2_HOST_KEY_ALGORITHMS)[number];

/** An RSA key serves three signature algorithms; every other type, its own name. */
function keyTypeOf(algorithm: HostKeyAlgorithm): string {
  return algorithm.startsWith("rsa-sha2-") ? "ssh-rsa" : algorithm;
}

/**
 * The host key algorithms to offer when only known_hosts entries pin a host: a server with several
 * host keys then shows one that is pinned, as OpenSSH's client does. Undefined: offer ssh2's defaults
 * (a bare fingerprint does not say its key's type, and a type ssh2 cannot speak is no help).
 */
export function hostKeyAlgorithms(pins: HostKeyPins): HostKeyAlgorithm[] | undefined {
  if (pins.fingerprint) return undefined;
  const types = new Set(pins.known.filter((entry) => !entry.revoked).map((entry) => entry.key.type));
  const offered = SSH2_HOST_KEY_ALGORITHMS.filter((algorithm) => types.has(keyTypeOf(algorithm)));
  return offered.length === 0 ? undefined : offered;
}

/** A key blob as ssh2's hostVerifier hands it over (the server's KEX reply). */
export function hostKeyOf(blob: Buffer): HostKey {
  return { type: blobType(blob) ?? "unknown", blob };
}
