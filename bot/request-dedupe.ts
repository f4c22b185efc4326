import type { Redis } from "ioredis";

/**
 * Remembers which Slack requests already ran, in Redis so that a restarted bot remembers too.
 * Slack sends a request again (X-Slack-Retry-Num) when our answer was slow or lost, with the
 * same trigger_id; a replay of a captured request carries it too. The first one runs, the
 * others are acked and dropped.
 */
export class RequestDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    /** Longer than Slack's retries (minutes) and the 5-minute replay window. */
    private readonly rememberSeconds = 3_600,
  ) {}

  /** True the first time a key is seen. When Redis cannot answer, runs it (a lost command is worse). */
  async first(key: string): Promise<boolean> {
    try {
      const set = await this.redis.set(
        `harbor-ha:${this.site}:seen:${key}`,
        "1",
        "EX",
        this.rememberSeconds,
        "NX",
      );
      return set === "OK";
    } catch {
      return true;
    }
  }
}
