import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { securityEventsKey } from "../../jobs/signing/job-refusal.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { SlackSender } from "../slack-sender.ts";

/** Every bot reads the stream in one consumer group, so each event is posted once, by one bot. */
const GROUP = "bot-alerts";
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

/**
 * Turns the security events agents and the controller queue append
 * (`harbor-ha:SITE:security-events`) into one message each in the alert channel. An event whose
 * post failed stays pending in the group and is posted again on the next round.
 */
export function startSecurityAlerts(deps: {
  readonly site: SiteConfig;
  /** The bot's login: its stream read blocks, so it gets a connection of its own. */
  readonly redis: RedisCredentials;
  readonly sender: SlackSender;
  readonly logger: Logger;
}): { stop(): Promise<void> } {
  const { site, sender, logger } = deps;
  const key = securityEventsKey(site.site);
  const consumer = `bot-${process.pid}`;
  const redis = openControlPlaneRedis(site.controlPlane, deps.redis);
  redis.on("error", () => {});
  let stopping = false;

  const post = async (id: string, fields: string[]) => {
    const record = asRecord(fields);
    if (record.kind !== "job.refused" || Number(id.split("-")[0]) < Date.now() - TOO_OLD_MS) {
      await redis.xack(key, GROUP, id);
      return;
    }
    await sender.post(site.slack.alertChannel, { text: securityAlertText(record) });
    await redis.xack(key, GROUP, id);
  };

  const loop = async () => {
    let backlog = true;
    let claimed = false;
    while (!stopping) {
      try {
        // From the stream's start: events appended while no bot ran are posted when one starts.
        await redis.xgroup("CREATE", key, GROUP, "0", "MKSTREAM").catch((error: Error) => {
          if (!/BUSYGROUP/.test(error.message)) throw error;
        });
        if (!claimed) {
          // Events a stopped bot had read but not posted become this bot's (pending ones only).
          await redis.xautoclaim(key, GROUP, consumer, STALE_MS, "0-0", "COUNT", 100);
          claimed = true;
        }
        // First what this consumer was given and did not post (a failed post, a restart), then new ones.
        const reply = (await redis.xreadgroup(
          "GROUP",
          GROUP,
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
            await post(id, fields);
          } catch (error) {
            backlog = true;
            logger.warn(
              { event: "security-alert.post.failed", id, err: errorMessage(error) },
              "alert not posted",
            );
            await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
            break;
          }
        }
      } catch (error) {
        if (stopping) return;
        logger.warn(
          { event: "security-alert.read.failed", err: errorMessage(error) },
          "security events unreadable",
        );
        await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
      }
    }
  };
  const running = loop();
  return {
    async stop() {
      stopping = true;
      redis.disconnect();
      await running;
    },
  };
}
