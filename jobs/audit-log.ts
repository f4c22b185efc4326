import type { Redis } from "ioredis";

/**
 * The durable record of who did what: every command, approval request, decision and action,
 * appended to a Redis stream (the control-plane Redis runs with AOF). Entries are flat strings,
 * so that `redis-cli XRANGE` shows them as they are.
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

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    private readonly retention: AuditRetention = { maxEntries: 100_000, maxAgeDays: 365 },
  ) {}

  /** Appends an entry; the stream is trimmed by size and age as it grows ("~": cheaply, in whole nodes). */
  async append(entry: AuditEntry, now = Date.now()): Promise<string> {
    const key = auditStreamKey(this.site);
    const fields = Object.entries(entry).flatMap(([name, value]) =>
      value === undefined ? [] : [name, String(value)],
    );
    const oldest = Math.max(0, Math.floor(now - this.retention.maxAgeDays * 86_400_000));
    const results = await this.redis
      .multi()
      .xadd(key, "MAXLEN", "~", this.retention.maxEntries, "*", ...fields)
      .xtrim(key, "MINID", "~", `${oldest}-0`)
      .exec();
    const [error, id] = results?.[0] ?? [null, ""];
    if (error) throw error;
    return String(id ?? "");
  }

  /** Whether Redis keeps the log across a restart (appendonly); the bot warns when it does not. */
  async durable(): Promise<boolean> {
    const reply = (await this.redis.config("GET", "appendonly")) as string[];
    return reply[1] === "yes";
  }

  /** The newest `count` entries, newest first. */
  async recent(count: number): Promise<RecordedAuditEntry[]> {
    const rows = await this.redis.xrevrange(auditStreamKey(this.site), "+", "-", "COUNT", count);
    return rows.map(([id, fields]) => toEntry(id, fields));
  }
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
