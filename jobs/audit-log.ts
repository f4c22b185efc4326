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

/** How many entries the stream keeps; Redis trims the oldest beyond it (approximately, cheaply). */
export const AUDIT_MAX_ENTRIES = 100_000;

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
  ) {}

  async append(entry: AuditEntry): Promise<string> {
    const fields = Object.entries(entry).flatMap(([key, value]) =>
      value === undefined ? [] : [key, String(value)],
    );
    const id = await this.redis.xadd(
      auditStreamKey(this.site),
      "MAXLEN",
      "~",
      AUDIT_MAX_ENTRIES,
      "*",
      ...fields,
    );
    return id ?? "";
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
