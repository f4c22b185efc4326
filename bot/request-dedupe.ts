import type { Redis } from "ioredis";
import { errorMessage, HarborHaError } from "../support/errors.ts";

/** What the user is told when a request cannot be checked: nothing ran, so trying again is safe. */
export const UNREACHABLE_REPLY =
  ":x: The control plane is unreachable; nothing was run, try again in a moment.";

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

  /**
   * True the first time a key is seen. When Redis cannot answer it throws
   * CONTROL_PLANE_UNREACHABLE: a request that cannot be remembered is refused, because running
   * a failover or a switchover twice (Slack retries a slow answer) is worse than asking the user
   * to type it again.
   */
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
    } catch (cause) {
      throw new HarborHaError(
        "CONTROL_PLANE_UNREACHABLE",
        `the control-plane Redis: ${errorMessage(cause)}`,
        {
          action: "remember a Slack request before running it",
          hint: "check that the control-plane Redis runs and that the bot reaches it (controlPlane.redisUrl)",
          context: { key },
          cause,
        },
      );
    }
  }
}
