import type { Redis } from "ioredis";
import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import type { AuditEntry, AuditLog } from "../../jobs/audit-log.ts";
import { securityEventsKey } from "../../jobs/signing/job-refusal.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { SlackSender } from "../slack-sender.ts";

/**
 * Two consumer groups read the one stream, each acknowledging on its own: one records each event
 * in the audit log, one posts it to the channel. A failed post is retried without a second audit
 * entry, and an event too old to post is still recorded.
 */
const ALERT_GROUP = "bot-alerts";
const AUDIT_GROUP = "bot-audit";
const BLOCK_MS = 2_000;
/** A pending event nobody acknowledged for this long belonged to a bot that is gone. */
const STALE_MS = 60_000;
/** Older events are history (the audit log has them), not news for the channel. */
const TOO_OLD_MS = 24 * 3_600_000;

export function securityAlertText(fields: Readonly<Record<string, string>>): string {
  const head = `:rotating_light: forged or malformed job refused on ${fields.consumer ?? "?"}: ${fields.reason ?? "?"}`;
  return `${head}\n\`${fields.job ?? "?"}\` job \`${fields.jobId ?? "?"}\` on \`${fields.queue ?? "?"}\`: ${fields.detail ?? ""}\nNothing ran. Someone with write access to the control-plane Redis, or a host without this site's key, queued it; \`harbor-ha history\` has the record.`;
}

function asRecord(fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2)
    record[fields[index] ?? ""] = fields[index + 1] ?? "";
  return record;
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

/** How one consumer group handles one event; a throw leaves it pending for the next round. */
type EventHandler = (id: string, record: Readonly<Record<string, string>>) => Promise<void>;

/**
 * Reads `key` in `group` until stopped: first what this consumer was given and did not finish (a
 * failed handler, a restart), then new events. Each handled event is acknowledged in this group only.
 */
async function consumeGroup(
  redis: Redis,
  key: string,
  group: string,
  handle: EventHandler,
  isStopping: () => boolean,
  logger: Logger,
): Promise<void> {
  const consumer = `bot-${process.pid}`;
  let backlog = true;
  let claimed = false;
  while (!isStopping()) {
    try {
      // From the stream's start: events appended while no bot ran are handled when one starts.
      await redis.xgroup("CREATE", key, group, "0", "MKSTREAM").catch((error: Error) => {
        if (!/BUSYGROUP/.test(error.message)) throw error;
      });
      if (!claimed) {
        // Events a stopped bot had read but not handled become this bot's (pending ones only).
        await redis.xautoclaim(key, group, consumer, STALE_MS, "0-0", "COUNT", 100);
        claimed = true;
      }
      const reply = (await redis.xreadgroup(
        "GROUP",
        group,
        consumer,
        "COUNT",
        20,
        "BLOCK",
        BLOCK_MS,
        "STREAMS",
        key,
        backlog ? "0" : ">",
      )) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (backlog && entries.length === 0) backlog = false;
      for (const [id, fields] of entries) {
        try {
          await handle(id, asRecord(fields));
          await redis.xack(key, group, id);
        } catch (error) {
          backlog = true;
          logger.warn(
            { event: "security-event.handle.failed", group, id, err: errorMessage(error) },
            "security event not handled; retried on the next round",
          );
          await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
          break;
        }
      }
    } catch (error) {
      if (isStopping()) return;
      logger.warn(
        { event: "security-event.read.failed", group, err: errorMessage(error) },
        "security events unreadable",
      );
      await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
    }
  }
}

/** The audit entry of a refused job, as the agent or controller that refused it reported it. */
export function refusalAuditEntry(record: Readonly<Record<string, string>>): AuditEntry {
  return {
    actor: record.actor ?? `agent:${record.consumer ?? "?"}`,
    action: "job.refused",
    outcome: "refused",
    detail: `${record.job ?? "?"} ${record.jobId ?? "?"}: ${record.reason ?? "?"}: ${record.detail ?? ""}`,
    where: record.queue ?? "?",
  };
}

/**
 * Turns the security events agents and the controller queue append
 * (`harbor-ha:SITE:security-events`) into one audit entry and one message in the alert channel
 * each, by whichever bot reads it first.
 */
export function startSecurityAlerts(deps: {
  readonly site: SiteConfig;
  /** The bot's login: its stream reads block, so they get connections of their own. */
  readonly redis: RedisCredentials;
  readonly audit: AuditLog;
  readonly sender: SlackSender;
  readonly logger: Logger;
}): { stop(): Promise<void> } {
  const { site, sender, logger } = deps;
  const key = securityEventsKey(site.site);
  const connections = [ALERT_GROUP, AUDIT_GROUP].map(() => {
    const redis = openControlPlaneRedis(site.controlPlane, deps.redis);
    redis.on("error", () => {});
    return redis;
  });
  let stopping = false;
  const isStopping = () => stopping;
  const [alertRedis, auditRedis] = connections as [Redis, Redis];

  const post: EventHandler = async (id, record) => {
    if (record.kind !== "job.refused" || Number(id.split("-")[0]) < Date.now() - TOO_OLD_MS) return;
    await sender.post(site.slack.alertChannel, { text: securityAlertText(record) });
  };
  const record: EventHandler = async (_id, event) => {
    if (event.kind === "job.refused") await deps.audit.append(refusalAuditEntry(event));
  };
  const running = Promise.all([
    consumeGroup(alertRedis, key, ALERT_GROUP, post, isStopping, logger),
    consumeGroup(auditRedis, key, AUDIT_GROUP, record, isStopping, logger),
  ]);
  return {
    async stop() {
      stopping = true;
      for (const redis of connections) redis.disconnect();
      await running;
    },
  };
}
