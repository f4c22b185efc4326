import { createHmac, timingSafeEqual } from "node:crypto";
import type { SiteKey } from "../config/site-key.ts";
import { purposeKey } from "../config/site-key-seal.ts";

/**
 * The audit stream as a hash chain. Each entry carries `prev` (the id of the entry it follows),
 * `prevHash` (that entry's hash) and `hash`: HMAC-SHA256, with a key derived from the site key,
 * over its id, prev, prevHash and its own fields. Whoever can write to Redis but has no site key
 * can delete, add or rebuild entries, but cannot make links that verify: a deletion shows as an
 * entry whose `prev` is gone, a change or an addition as an entry whose hash does not match.
 * Pure: the stream's rows in, a report out (jobs/audit-log.ts reads and writes Redis).
 */

export const CHAIN_VERSION = "harbor-ha.audit.v1";
/** `prevHash` of the first entry of an empty stream, and of one that follows an unchained entry. */
export const NO_PREVIOUS = "none";
export const UNCHAINED_PREVIOUS = "unchained";
/** `prevHash` when the entry it follows was already deleted at append time. */
export const MISSING_PREVIOUS = "missing";

/** The fields of an entry that its hash covers, besides the link fields. */
export const ENTRY_FIELDS = ["actor", "action", "outcome", "detail", "where"] as const;
type EntryField = (typeof ENTRY_FIELDS)[number];
export type EntryFields = Partial<Record<EntryField, string>>;

export interface ChainLink {
  readonly id: string;
  readonly prev: string;
  readonly prevHash: string;
}

export function chainKey(siteKey: SiteKey): Buffer {
  return purposeKey(siteKey, "audit-chain");
}

/**
 * The entry `harbor-ha site-key rotate` appends, chained with the old key: its detail names the
 * new key's fingerprint, and the entries after it are chained with that key. Only a holder of the
 * old key can write it, so a rotation is part of the chain, not a gap in it.
 */
export const KEY_ROTATION_ACTION = "site-key.rotated";

export function keyRotationDetail(from: string, to: string): string {
  return `from ${from} to ${to}`;
}

function rotatedTo(fields: Readonly<Record<string, string>>): string | undefined {
  if (fields.action !== KEY_ROTATION_ACTION) return undefined;
  return / to ([0-9a-f]{12})\b/.exec(fields.detail ?? "")?.[1];
}

/** A key the chain may be chained with: the site key's fingerprint and its derived chain key. */
export interface ChainKey {
  readonly fingerprint: string;
  readonly key: Buffer;
}

export function chainKeyOf(siteKey: SiteKey): ChainKey {
  return { fingerprint: siteKey.fingerprint, key: chainKey(siteKey) };
}

/** Canonical: a JSON array in a fixed order, an absent field as null (never confused with ""). */
export function entryHash(key: Buffer, site: string, link: ChainLink, fields: EntryFields): string {
  const canonical = JSON.stringify([
    CHAIN_VERSION,
    site,
    link.id,
    link.prev,
    link.prevHash,
    ...ENTRY_FIELDS.map((name) => fields[name] ?? null),
  ]);
  return createHmac("sha256", key).update(canonical, "utf8").digest("hex");
}

/** The flat field list XADD stores for a chained entry. */
export function chainedFields(key: Buffer, site: string, link: ChainLink, fields: EntryFields): string[] {
  const own = ENTRY_FIELDS.flatMap((name) =>
    fields[name] === undefined ? [] : [name, String(fields[name])],
  );
  return [...own, "prev", link.prev, "prevHash", link.prevHash, "hash", entryHash(key, site, link, fields)];
}

function parseId(id: string): [number, number] {
  const [ms, seq] = id.split("-");
  return [Number(ms ?? 0), Number(seq ?? 0)];
}

export function compareIds(a: string, b: string): number {
  const [[am, as], [bm, bs]] = [parseId(a), parseId(b)];
  return am === bm ? as - bs : am - bm;
}

/** The id to append after `last` (the stream's last-generated-id): now, or one past `last`. */
export function nextStreamId(last: string, now: number): string {
  const [ms, seq] = parseId(last);
  const at = Math.floor(now);
  return at > ms ? `${at}-0` : `${ms}-${seq + 1}`;
}

export type StreamRow = readonly [id: string, fields: readonly string[]];

/** What XINFO STREAM says beyond the rows: what was added last, and the newest deletion. */
export interface StreamFacts {
  readonly lastGeneratedId: string;
  /** Redis sets it on XDEL, never on a trim (MAXLEN/MINID); "0-0" when nothing was deleted. */
  readonly maxDeletedId: string;
}

export interface ChainRetention {
  readonly maxEntries: number;
  readonly maxAgeDays: number;
}

export type ChainBreakKind =
  | "deleted"
  | "changed"
  | "unsigned"
  | "head-cut"
  | "tail-deleted"
  | "out-of-order"
  | "unknown-key";

export interface ChainBreak {
  readonly kind: ChainBreakKind;
  /** The entry where the chain breaks (for "deleted": the last whole entry before the gap). */
  readonly id: string;
  readonly text: string;
}

export interface ChainReport {
  readonly entries: number;
  /** Entries written before the chain existed (no hash fields), at the start of the stream. */
  readonly unchained: number;
  readonly chained: number;
  readonly first: string | undefined;
  readonly last: string | undefined;
  /** The newest entry's hash: noted elsewhere, it also reveals a later cut of the newest entries. */
  readonly headHash: string | undefined;
  /** The id the oldest present chained entry follows, when older entries were trimmed. */
  readonly trimmedBefore: string | undefined;
  readonly breaks: readonly ChainBreak[];
}

function fieldMap(fields: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2)
    values[fields[index] ?? ""] = fields[index + 1] ?? "";
  return values;
}

function sameHash(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a, "utf8"), Buffer.from(b, "utf8")];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether retention explains that the entries up to `prev` are gone (trims cut the oldest only). */
function trimExplains(prev: string, rows: readonly StreamRow[], retention: ChainRetention): boolean {
  if (rows.length >= retention.maxEntries) return true;
  const newest = rows[rows.length - 1];
  const newestMs = newest ? parseId(newest[0])[0] : 0;
  return parseId(prev)[0] < newestMs - retention.maxAgeDays * 86_400_000;
}

/**
 * Walks the stream from its oldest present entry. Entries without hash fields before the first
 * chained one are "unchained" (an older version wrote them); a head cut that retention explains
 * is a trim, not a break.
 */
export function checkAuditChain(
  keys: readonly ChainKey[],
  site: string,
  rows: readonly StreamRow[],
  facts: StreamFacts,
  retention: ChainRetention,
): ChainReport {
  const breaks: ChainBreak[] = [];
  let unchained = 0;
  let chained = 0;
  let trimmedBefore: string | undefined;
  /** The previous present entry: its id and hash (undefined: it has none to link to). */
  let previous: { id: string; hash: string | undefined } | undefined;
  /** The key of the entries being walked; a rotation entry hands over to the key it names. */
  let active: ChainKey | undefined;
  const verifies = (candidate: ChainKey, fields: Record<string, string>, link: ChainLink) =>
    sameHash(fields.hash ?? "", entryHash(candidate.key, site, link, fields));
  for (const [id, raw] of rows) {
    const fields = fieldMap(raw);
    const { prev, prevHash, hash } = fields;
    if (hash === undefined || prev === undefined || prevHash === undefined) {
      if (chained === 0 && breaks.length === 0) {
        unchained += 1;
        previous = { id, hash: UNCHAINED_PREVIOUS };
      } else {
        breaks.push({
          kind: "unsigned",
          id,
          text: `entry ${id} carries no chain fields: it was added without the site key`,
        });
        previous = { id, hash: undefined };
      }
      continue;
    }
    chained += 1;
    const link = { id, prev, prevHash };
    // The oldest chained entry may predate rotations: whichever known key verifies it starts the walk.
    active ??= keys.find((candidate) => verifies(candidate, fields, link)) ?? keys[keys.length - 1];
    const whole = active !== undefined && verifies(active, fields, link);
    if (!whole) {
      breaks.push({
        kind: "changed",
        id,
        text: `entry ${id} does not match its hash: its fields were changed, or it was added without the site key`,
      });
    }
    const next = whole ? rotatedTo(fields) : undefined;
    if (next !== undefined) {
      const handedTo = keys.find((candidate) => candidate.fingerprint === next);
      if (!handedTo) {
        breaks.push({
          kind: "unknown-key",
          id,
          text: `entry ${id} rotated the site key to ${next}, which is neither the current key nor a kept previous one (SITEKEYFILE.previous-FINGERPRINT): the entries after it cannot be checked`,
        });
      }
      active = handedTo;
    }
    if (previous === undefined) {
      if (prev !== "0-0") {
        if (trimExplains(prev, rows, retention)) trimmedBefore = prev;
        else {
          breaks.push({
            kind: "head-cut",
            id,
            text: `the entries up to ${prev}, before the oldest entry ${id}, are gone, and neither audit.maxEntries (${retention.maxEntries}) nor audit.maxAgeDays (${retention.maxAgeDays}) explains it: they were deleted`,
          });
        }
      }
    } else if (prev !== previous.id) {
      breaks.push(
        compareIds(prev, previous.id) > 0
          ? {
              kind: "deleted",
              id: previous.id,
              text: `entries were deleted after ${previous.id}: the next entry ${id} follows ${prev}, which is gone`,
            }
          : {
              kind: "out-of-order",
              id,
              text: `entry ${id} follows ${prev}, not ${previous.id}: ${previous.id} was added without the site key`,
            },
      );
    } else if (previous.hash !== undefined && !sameHash(prevHash, previous.hash)) {
      breaks.push({
        kind: "changed",
        id: previous.id,
        text: `entry ${previous.id} was changed: ${id} was chained to another hash of it`,
      });
    }
    previous = { id, hash };
  }
  const last = rows[rows.length - 1]?.[0];
  if (compareIds(facts.lastGeneratedId, last ?? "0-0") > 0) {
    breaks.push({
      kind: "tail-deleted",
      id: last ?? "0-0",
      text: `the newest entries were deleted: the stream's last entry was ${facts.lastGeneratedId}, and ${last ?? "none"} is the newest left`,
    });
  }
  if (
    facts.maxDeletedId !== "0-0" &&
    !breaks.some((b) => ["deleted", "tail-deleted", "head-cut"].includes(b.kind))
  ) {
    breaks.push({
      kind: "deleted",
      id: facts.maxDeletedId,
      text: `entry ${facts.maxDeletedId} was deleted with XDEL (Redis's max-deleted-entry-id; a trim never sets it)`,
    });
  }
  const headFields = rows[rows.length - 1]?.[1];
  return {
    entries: rows.length,
    unchained,
    chained,
    first: rows[0]?.[0],
    last,
    headHash: headFields ? fieldMap(headFields).hash : undefined,
    trimmedBefore,
    breaks,
  };
}

/** The lines `harbor-ha history --verify` prints: a verdict first, then each break. */
export function describeChain(site: string, report: ChainReport): string[] {
  const lines: string[] = [];
  const span = report.first ? ` from ${report.first} to ${report.last}` : "";
  if (report.breaks.length === 0) {
    lines.push(
      report.entries === 0
        ? `audit chain of ${site}: empty, nothing to verify`
        : `audit chain of ${site} verified: ${report.chained} chained entries${span}`,
    );
  } else {
    lines.push(
      `audit chain of ${site} BROKEN: ${report.breaks.length} break${report.breaks.length === 1 ? "" : "s"} in ${report.entries} entries${span}`,
    );
    for (const item of report.breaks) lines.push(`  break (${item.kind}): ${item.text}`);
  }
  if (report.unchained > 0) {
    lines.push(`  ${report.unchained} unchained entries at the start (written before the chain existed)`);
  }
  if (report.trimmedBefore) {
    lines.push(`  older entries trimmed by retention: the oldest kept entry follows ${report.trimmedBefore}`);
  }
  if (report.headHash) lines.push(`  newest entry ${report.last}, hash ${report.headHash.slice(0, 16)}`);
  return lines;
}
