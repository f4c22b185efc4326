import { ErrorCode, type WebClient } from "@slack/web-api";
import type { Logger } from "../support/logger.ts";
import type { Block } from "./views/block-kit.ts";

export interface OutgoingMessage {
  readonly text: string;
  readonly blocks?: readonly Block[];
  readonly thread_ts?: string;
}

export interface SenderOptions {
  /** Least time between two messages posted to one channel (Slack allows about one a second). */
  readonly channelSpacingMs?: number;
  /** Attempts for one call when Slack says "rate limited" or the request surely did not arrive. */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The one way the bot sends to Slack. Messages to a channel leave one at a time and at least
 * `channelSpacingMs` apart, so a burst of alerts queues here instead of being refused there. A
 * refused call (429) is sent again after Slack's Retry-After; a call that failed before it
 * reached Slack (connection refused, DNS) is sent again; anything else is not: a post that may
 * have arrived is never repeated, or the channel would see it twice.
 * The WebClient must be made with `rejectRateLimitedCalls: true` and no retries of its own.
 */
export class SlackSender {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly lastPost = new Map<string, number>();
  private readonly spacingMs: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    options: SenderOptions = {},
  ) {
    this.spacingMs = options.channelSpacingMs ?? 1_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Posts a message; resolves to its ts. */
  post(channel: string, message: OutgoingMessage): Promise<string> {
    return this.inChannel(channel, true, async () => {
      const result = await this.call("chat.postMessage", () =>
        this.client.chat.postMessage({ channel, ...message, blocks: message.blocks as never }),
      );
      return String(result.ts ?? "");
    });
  }

  /** Replaces a message's text and blocks. Safe to repeat, so every failure kind is retried. */
  update(channel: string, ts: string, message: OutgoingMessage): Promise<void> {
    return this.inChannel(channel, false, async () => {
      await this.call(
        "chat.update",
        () => this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never }),
        true,
      );
    });
  }

  /** A message only `user` sees. */
  postEphemeral(channel: string, user: string, message: OutgoingMessage): Promise<void> {
    return this.inChannel(channel, false, async () => {
      await this.call("chat.postEphemeral", () =>
        this.client.chat.postEphemeral({ channel, user, ...message, blocks: message.blocks as never }),
      );
    });
  }

  /** Chains a send after the channel's previous one, spacing posts. */
  private inChannel<T>(channel: string, spaced: boolean, send: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        if (spaced) {
          const wait = (this.lastPost.get(channel) ?? 0) + this.spacingMs - Date.now();
          if (wait > 0) await this.sleep(wait);
          this.lastPost.set(channel, Date.now());
        }
        return send();
      });
    this.tails.set(channel, next);
    // The caller gets the failure; this bookkeeping must not be a second, unhandled, rejection.
    const forget = () => {
      if (this.tails.get(channel) === next) this.tails.delete(channel);
    };
    next.then(forget, forget);
    return next;
  }

  private async call<T>(method: string, send: () => Promise<T>, idempotent = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const waitMs = retryDelay(error, idempotent, attempt);
        if (waitMs === undefined || attempt >= this.maxAttempts) throw error;
        this.logger.warn(
          { event: "slack.retry", method, attempt, waitMs, err: (error as Error).message },
          `${method} failed; sending again in ${waitMs} ms`,
        );
        await this.sleep(waitMs);
      }
    }
  }
}

const NOT_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET before/;

/** How long to wait before sending again, or undefined when sending again is not safe. */
export function retryDelay(error: unknown, idempotent: boolean, attempt: number): number | undefined {
  const coded = error as {
    code?: string;
    retryAfter?: number;
    original?: { message?: string; cause?: { code?: string } };
  };
  if (coded.code === ErrorCode.RateLimitedError) return Math.max(1, coded.retryAfter ?? 1) * 1_000;
  if (coded.code === ErrorCode.RequestError) {
    const cause = `${coded.original?.cause?.code ?? ""} ${coded.original?.message ?? ""}`;
    if (idempotent || NOT_SENT.test(cause)) return Math.min(250 * 2 ** (attempt - 1), 4_000);
  }
  return undefined;
}
