import { Redis, type RedisOptions } from "ioredis";
import { HarborHaError } from "./errors.ts";

/** Shows a Redis URL without its password, for logs and messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/**
 * A connection for BullMQ workers and queue events: commands wait through a Redis restart
 * instead of failing (maxRetriesPerRequest null), and reconnection never gives up.
 */
export function createDurableRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    ...options,
  });
}

/**
 * Checks that the control-plane Redis answers before a command queues anything, so that a
 * wrong URL or a stopped Redis is one clear error instead of a hang.
 */
export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    throw new HarborHaError("REDIS_UNREACHABLE", `${redactRedisUrl(url)}: ${(cause as Error).message}`, {
      action: "connect to the control-plane Redis",
      hint: "check controlPlane.redisUrl in the site config and that Redis runs there (`harbor-ha lab up` starts the lab's)",
      context: { url: redactRedisUrl(url) },
      cause,
    });
  } finally {
    probe.disconnect();
  }
}
