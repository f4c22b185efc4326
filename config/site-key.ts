import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { HarborHaError } from "../support/errors.ts";

/**
 * The site key: 32 random bytes that sign every job and chain the audit log. It is never in
 * Redis, so whoever can write to the control-plane Redis still cannot make an agent act. It lives
 * in one file, at the same path on the operations host and on every node (security.siteKeyFile),
 * mode 600, made once (by `lab up` in the lab, by the first deploy at a real site).
 */
export const SITE_KEY_BYTES = 32;

export interface SiteKey {
  readonly bytes: Buffer;
  /** The first 12 hex digits of its SHA-256: safe to log, and enough to compare two hosts' copies. */
  readonly fingerprint: string;
}

export function siteKeyFromText(text: string, file: string): SiteKey {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9_-]+$/.test(trimmed) ? Buffer.from(trimmed, "base64url") : Buffer.alloc(0);
  if (bytes.length !== SITE_KEY_BYTES) {
    throw new HarborHaError(
      "SITE_KEY_INVALID",
      `${file} does not hold a site key (${SITE_KEY_BYTES} bytes, base64url)`,
      {
        action: "read the site key",
        hint: `restore the file from the operations host (same path on every host), or remove it on a site that was never deployed and run deploy again to make a new one`,
        context: { file },
      },
    );
  }
  return { bytes, fingerprint: createHash("sha256").update(bytes).digest("hex").slice(0, 12) };
}

export function renderSiteKey(bytes: Buffer = randomBytes(SITE_KEY_BYTES)): string {
  return `${bytes.toString("base64url")}\n`;
}

/** Reads the key; a file that others may read is refused, since anyone holding the key can sign jobs. */
export async function readSiteKey(file: string): Promise<SiteKey> {
  let mode: number;
  let text: string;
  try {
    mode = (await stat(file)).mode;
    text = await readFile(file, "utf8");
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    throw new HarborHaError(
      missing ? "SITE_KEY_MISSING" : "SITE_KEY_INVALID",
      `cannot read the site key ${file}: ${(cause as Error).message}`,
      {
        action: "read the site key",
        hint: missing
          ? "the first `harbor-ha deploy` makes it on the operations host and copies it to every node (`harbor-ha lab up` in the lab); security.siteKeyFile names it"
          : "check the file's owner and permissions",
        context: { file },
        cause,
      },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new HarborHaError(
      "SITE_KEY_INVALID",
      `the site key ${file} is readable by others (mode ${(mode & 0o777).toString(8)})`,
      {
        action: "read the site key",
        hint: `chmod 600 ${file}; if others could read it, make a new key and deploy again (README: Security)`,
        context: { file, mode: mode & 0o777 },
      },
    );
  }
  return siteKeyFromText(text, file);
}

/**
 * Reads the key, making it first when the file does not exist. Created with O_EXCL, so two
 * processes racing to make it cannot end up with different keys: the loser reads the winner's.
 */
export async function ensureSiteKey(file: string): Promise<{ key: SiteKey; created: boolean }> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.writeFile(renderSiteKey());
    } finally {
      await handle.close();
    }
    return { key: await readSiteKey(file), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { key: await readSiteKey(file), created: false };
  }
}

/**
 * The key a long-running agent verifies jobs with. After a rotation (`harbor-ha site-key rotate`,
 * then deploy's host.agent copies the new file to the node) the first job signed with the new key
 * fails its check with the old one; the agent then reads the file again and, if it now holds
 * another valid key, takes it up without a restart.
 */
export class ReloadableSiteKey {
  private key: SiteKey;

  constructor(
    readonly file: string,
    initial: SiteKey,
  ) {
    this.key = initial;
  }

  get current(): SiteKey {
    return this.key;
  }

  /** The file's key when it differs from the current one (now current), else undefined. */
  async reload(): Promise<SiteKey | undefined> {
    let fresh: SiteKey;
    try {
      fresh = await readSiteKey(this.file);
    } catch {
      // A file being replaced or made unreadable keeps the key this process started with.
      return undefined;
    }
    if (fresh.bytes.equals(this.key.bytes)) return undefined;
    this.key = fresh;
    return fresh;
  }
}

/** Where a rotation keeps the key it replaced: beside the key file, named by its fingerprint. */
export function previousSiteKeyFile(file: string, fingerprint: string): string {
  return `${file}.previous-${fingerprint}`;
}

/** The keys earlier rotations kept (for `history --verify`), oldest file first; unreadable ones are skipped. */
export async function readPreviousSiteKeys(file: string): Promise<SiteKey[]> {
  const prefix = `${basename(file)}.previous-`;
  let names: string[];
  try {
    // Exactly FILE.previous-FINGERPRINT: a copy set aside (".bak", ".away") is not a kept key.
    names = (await readdir(dirname(file))).filter(
      (name) => name.startsWith(prefix) && /^[0-9a-f]{12}$/.test(name.slice(prefix.length)),
    );
  } catch {
    return [];
  }
  const keys: Array<{ key: SiteKey; mtimeMs: number }> = [];
  for (const name of names) {
    const path = join(dirname(file), name);
    try {
      keys.push({ key: await readSiteKey(path), mtimeMs: (await stat(path)).mtimeMs });
    } catch {
      // A damaged or world-readable copy verifies nothing; the chain check names what it cannot verify.
    }
  }
  return keys.sort((a, b) => a.mtimeMs - b.mtimeMs).map((entry) => entry.key);
}

/** Writes a key file as the key's only copy must be written: mode 600, whole or not at all. */
export async function writeSiteKeyFile(file: string, key: SiteKey): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.partial-${process.pid}`;
  const handle = await open(partial, "w", 0o600);
  try {
    await handle.writeFile(renderSiteKey(key.bytes));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, file);
}
