import type { RateLimitOptions } from "./options.ts";

export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Slack's posting limit, one token bucket per key (a channel): `burst` messages at once, then
 * `perSecond`. A refused call is told how many whole seconds to wait (Retry-After is in seconds,
 * and WebClient sleeps exactly that long before retrying, so rounding down would refuse it again).
 * The clock is passed in: no timers, nothing to close.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number,
  ) {}

  take(key: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    const refilled = Math.min(
      this.options.burst,
      bucket.tokens + ((now - bucket.at) / 1_000) * this.options.perSecond,
    );
    if (refilled >= 1) {
      this.buckets.set(key, { tokens: refilled - 1, at: now });
      return { allowed: true };
    }
    // A refusal leaves the bucket as it was: it keeps filling from its last taken message.
    if (!this.buckets.has(key)) this.buckets.set(key, bucket);
    const waitSeconds = (1 - refilled) / this.options.perSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }
}
