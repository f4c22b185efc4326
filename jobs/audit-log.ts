import type { Redis } from "ioredis";
import type { SiteKey } from "../config/site-key.ts";
import { HarborHaError } from "../support/errors.ts";
import {
  type ChainReport,
  chainedFields,
  chainKey,
  chainKeyOf,
  checkAuditChain,
  MISSING_PREVIOUS,
  NO_PREVIOUS,
  nextStreamId,
  type StreamFacts,
  type StreamRow,
  UNCHAINED_PREVIOUS,
} from "./audit-chain.ts";

/**
 * The durable record of who did what: every command, approval request, decision and action,
 * appended to a Redis stream (the control-plane Redis runs with AOF). Entries are flat strings,
 * so that `redis-cli XRANGE` shows them as they are, and chained (jobs/audit-chain.ts): each carries
 * the hash of the one before, made with the site key, so an edit by someone who has Redis access
 * but not the key shows in `harbor-ha history --verify`.
 */

export interface AuditEntry {
  /** A Slack user ID, "cli:USER", or "controller". */
  readonly actor: string;
  /** What was asked or done: "command /harbor status", "approval.requested", ... */
  readonly action: string;
  /** ok, refused, failed, duplicate, ... */
  readonly outcome: string;
  /** Free text: arguments, the reason, the error. */
  readonly detail?: string;
  /** The Slack channel or "terminal". */
  readonly where?: string;
}

export interface RecordedAuditEntry extends AuditEntry {
  /** The stream entry's id, `<epoch ms>-<seq>`. */
  readonly id: string;
  /** Epoch ms, from the id. */
  readonly at: number;
}

export function auditStreamKey(site: string): string {
  return `harbor-ha:${site}:audit`;
}

export interface AuditRetention {
  readonly maxEntries: number;
  readonly maxAgeDays: number;
}

/** The stream's last-generated-id, "0-0" when it does not exist (a Lua fragment of both scripts). */
const LAST_ID_LUA = `
local last = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do if info[i] == 'last-generated-id' then last = info[i + 1] end end
end`;

/** The tip to chain to: its id and hash ("unchained" for an older version's entry, "missing" if deleted). */
const TIP_SCRIPT = `${LAST_ID_LUA}
if last == '0-0' then return {last, '${NO_PREVIOUS}'} end
local rows = redis.call('XRANGE', KEYS[1], last, last)
if #rows == 0 then return {last, '${MISSING_PREVIOUS}'} end
local fields = rows[1][2]
for i = 1, #fields, 2 do if fields[i] == 'hash' then return {last, fields[i + 1]} end end
return {last, '${UNCHAINED_PREVIOUS}'}`;

// ARGV: the tip the entry was chained to, its id, maxlen, minid, then the fields. Appends only
// if nobody appended since the tip was read; 0 tells the caller to read the tip again.
const APPEND_SCRIPT = `${LAST_ID_LUA}
if last ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[2], unpack(ARGV, 5))
redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[4])
return 1`;

/** Enough for a burst of writers; each conflict means another append went in, so the log moves on. */
const APPEND_ATTEMPTS = 50;

export class AuditLog {
  private readonly chainKey: Buffer;
  private readonly keyFingerprint: string;

  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    siteKey: SiteKey,
    private readonly retention: AuditRetention = { maxEntries: 100_000, maxAgeDays: 365 },
  ) {
    this.chainKey = chainKey(siteKey);
    this.keyFingerprint = siteKey.fingerprint;
  }

  /**
   * Appends an entry chained to the stream's last one (jobs/audit-chain.ts); the stream is trimmed
   * by size and age as it grows ("~": cheaply, in whole nodes). Bots, the CLI and agents append
   * at once: the link is computed here (the site key never goes to Redis) and a Lua script appends
   * only if the tip is still the one linked to, else the link is made again. A script rather than
   * WATCH/MULTI: WATCH is state of a connection, and the bot shares one connection between
   * concurrent handlers, where one EXEC would clear another's WATCH.
   */
  async append(entry: AuditEntry, now = Date.now()): Promise<string> {
    const key = auditStreamKey(this.site);
    const oldest = Math.max(0, Math.floor(now - this.retention.maxAgeDays * 86_400_000));
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
      const [prev, prevHash] = (await this.redis.eval(TIP_SCRIPT, 1, key)) as [string, string];
      const id = nextStreamId(prev, Math.max(now, Date.now()));
      const fields = chainedFields(this.chainKey, this.site, { id, prev, prevHash }, entry);
      const appended = await this.redis.eval(
        APPEND_SCRIPT,
        1,
        key,
        prev,
        id,
        this.retention.maxEntries,
        `${oldest}-0`,
        ...fields,
      );
      if (appended === 1) return id;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
    throw new HarborHaError("AUDIT_APPEND_FAILED", `no append to ${key} after ${APPEND_ATTEMPTS} attempts`, {
      action: "append to the audit log",
      hint: "other writers appended every time in between: if this repeats, something floods the audit stream",
      context: { key },
    });
  }

  /** Whether Redis keeps the log across a restart (appendonly); the bot warns when it does not. */
  async durable(): Promise<boolean> {
    // INFO, not CONFIG GET: the controller's ACL user may not read the server's config.
    return /^aof_enabled:1\r?$/m.test(await this.redis.info("persistence"));
  }

  /** The newest `count` entries, newest first. */
  async recent(count: number): Promise<RecordedAuditEntry[]> {
    return recentAuditEntries(this.redis, this.site, count);
  }

  /**
   * Walks the whole stream, oldest first, and says whether its chain is whole and where it breaks.
   * `previousKeys`: the site keys before rotations (kept as SITEKEYFILE.previous-FINGERPRINT),
   * which the entries older than each rotation are chained with.
   */
  async verify(previousKeys: readonly SiteKey[] = []): Promise<ChainReport> {
    const key = auditStreamKey(this.site);
    const rows: StreamRow[] = [];
    let start = "-";
    for (;;) {
      const page = await this.redis.xrange(key, start, "+", "COUNT", VERIFY_PAGE);
      rows.push(...page);
      const lastRow = page[page.length - 1];
      if (page.length < VERIFY_PAGE || !lastRow) break;
      start = `(${lastRow[0]}`;
    }
    return checkAuditChain(
      [...previousKeys.map(chainKeyOf), { fingerprint: this.keyFingerprint, key: this.chainKey }],
      this.site,
      rows,
      await streamFacts(this.redis, key),
      this.retention,
    );
  }
}

const VERIFY_PAGE = 1_000;

async function streamFacts(redis: Redis, key: string): Promise<StreamFacts> {
  if ((await redis.exists(key)) === 0) return { lastGeneratedId: "0-0", maxDeletedId: "0-0" };
  const info = (await redis.xinfo("STREAM", key)) as unknown[];
  const value = (name: string) => {
    const index = info.indexOf(name);
    return index >= 0 ? String(info[index + 1]) : "0-0";
  };
  return { lastGeneratedId: value("last-generated-id"), maxDeletedId: value("max-deleted-entry-id") };
}

/** The newest `count` entries, newest first; needs no site key (reading is not verifying). */
export async function recentAuditEntries(
  redis: Redis,
  site: string,
  count: number,
): Promise<RecordedAuditEntry[]> {
  const rows = await redis.xrevrange(auditStreamKey(site), "+", "-", "COUNT", count);
  return rows.map(([id, fields]) => toEntry(id, fields));
}

function toEntry(id: string, fields: string[]): RecordedAuditEntry {
  const values: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2)
    values[fields[index] ?? ""] = fields[index + 1] ?? "";
  return {
    id,
    at: Number(id.split("-")[0]),
    actor: values.actor ?? "?",
    action: values.action ?? "?",
    outcome: values.outcome ?? "?",
    ...(values.detail === undefined ? {} : { detail: values.detail }),
    ...(values.where === undefined ? {} : { where: values.where }),
  };
}
