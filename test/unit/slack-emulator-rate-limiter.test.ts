import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiter } from "../../slack-emulator/rate-limiter.ts";

const clock = (start = 1_000_000) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

test("a channel takes its burst at once, then one message a second", () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 1, burst: 3 }, time.now);
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("C1"), { allowed: true });
  assert.deepEqual(limiter.take("C1"), { allowed: false, retryAfterSeconds: 1 });
  time.advance(999);
  assert.equal(limiter.take("C1").allowed, false);
  time.advance(1);
  assert.equal(limiter.take("C1").allowed, true);
  assert.equal(limiter.take("C1").allowed, false);
});

test("channels are limited separately", () => {
  const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, clock().now);
  assert.equal(limiter.take("C1").allowed, true);
  assert.equal(limiter.take("C1").allowed, false);
  assert.equal(limiter.take("C2").allowed, true);
});

test("Retry-After is whole seconds, rounded up, never 0", () => {
  const time = clock();
  const slow = new RateLimiter({ perSecond: 0.25, burst: 1 }, time.now);
  slow.take("C");
  assert.deepEqual(slow.take("C"), { allowed: false, retryAfterSeconds: 4 });
  time.advance(3_500);
  assert.deepEqual(slow.take("C"), { allowed: false, retryAfterSeconds: 1 });
  const fast = new RateLimiter({ perSecond: 10, burst: 1 }, time.now);
  fast.take("C");
  assert.deepEqual(fast.take("C"), { allowed: false, retryAfterSeconds: 1 });
});

test("an idle channel refills only up to its burst", () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now);
  time.advance(60_000);
  assert.equal(limiter.take("C").allowed, true);
  assert.equal(limiter.take("C").allowed, true);
  assert.equal(limiter.take("C").allowed, false);
});
