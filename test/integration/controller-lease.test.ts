import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { LeaseHolder } from "../../jobs/controller/lease-holder.ts";
import { LoopWatchdog } from "../../jobs/controller/loop-watchdog.ts";
import { controllerLeaseKey, parseControllerLease } from "../../jobs/controller-lease-key.ts";
import { startTestRedis, type TestRedis } from "../support/redis-server.ts";

/** The controller's lease on a real Redis: one holder at a time, a new token for each new holder. */
describe("the controller lease", () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const client = () => {
    const made = new Redis(redis.url);
    clients.push(made);
    return made;
  };
  const waitFor = async (what: string, check: () => boolean, limitMs = 10_000) => {
    const deadline = Date.now() + limitMs;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`${what} did not happen within ${limitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    redis = await startTestRedis();
  });

  after(async () => {
    for (const made of clients) made.disconnect();
    await redis?.stop();
  });

  test("one holds it; when it stops renewing, the other takes over with a higher token and the first stops acting", async () => {
    const events: string[] = [];
    const firstClient = client();
    const first = new LeaseHolder(firstClient, "leasesite", "bot-a", 1_000, {
      onAcquired: (token) => events.push(`a acquired ${token}`),
      onLost: () => events.push("a lost"),
    });
    const second = new LeaseHolder(client(), "leasesite", "bot-b", 1_000, {
      onAcquired: (token) => events.push(`b acquired ${token}; a acting: ${first.current() !== undefined}`),
      onLost: () => events.push("b lost"),
    });
    first.start();
    await waitFor("a holds the lease", () => first.current() !== undefined);
    second.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(second.current(), undefined, "b waits while a renews");
    const firstToken = first.current();
    // a loses Redis (a crash, a cut link): it cannot renew, and must stop acting before b may act.
    firstClient.disconnect();
    await waitFor("b takes over", () => second.current() !== undefined);
    await waitFor("a is told it lost", () => events.includes("a lost"));
    assert.ok((second.current() ?? 0) > (firstToken ?? 0), "the new holder's token is higher");
    assert.equal(first.current(), undefined);
    const stored = parseControllerLease((await client().get(controllerLeaseKey("leasesite"))) ?? "");
    assert.equal(stored?.holder, "bot-b");
    assert.equal(stored?.token, second.current());
    await second.stop();
    await first.stop();
    assert.ok(
      events.includes(`b acquired ${stored?.token}; a acting: false`),
      `a had stopped acting when b started: ${events.join(" | ")}`,
    );
  });

  test("a holder whose loop is wedged gives the lease up, and another bot takes over with a higher token", async () => {
    const events: string[] = [];
    const watchdog = new LoopWatchdog();
    const stuck = new LeaseHolder(client(), "wedged", "bot-a", 900, {
      onAcquired: (token) => events.push(`a acquired ${token}`),
      onLost: () => events.push("a lost"),
      wedged: () => watchdog.overdue()?.what,
      onWedged: (reason) => events.push(`a wedged: ${reason}`),
    });
    stuck.start();
    await waitFor("a holds the lease", () => stuck.current() !== undefined);
    const firstToken = stuck.current() ?? 0;
    // A plan step that never returns (a hung SSH exec, say): its budget runs out.
    watchdog.begin("step 1 (fence)", 100);
    await waitFor("a gives the lease up", () => events.includes("a wedged: step 1 (fence)"));
    assert.equal(stuck.current(), undefined, "a wedged loop stops acting");
    const other = new LeaseHolder(client(), "wedged", "bot-b", 900, {
      onAcquired: () => {},
      onLost: () => {},
    });
    other.start();
    await waitFor("b takes over", () => other.current() !== undefined);
    assert.ok((other.current() ?? 0) > firstToken, "the new holder's token is higher");
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(stuck.current(), undefined, "while wedged, a does not take the lease back");
    await other.stop();
    await stuck.stop();
  });

  test("a holder that finds another in the lease stops acting at once", async () => {
    const lost: string[] = [];
    const holder = new LeaseHolder(client(), "stolen", "bot-a", 3_000, {
      onAcquired: () => {},
      onLost: () => lost.push("lost"),
    });
    holder.start();
    await waitFor("it holds the lease", () => holder.current() !== undefined);
    // Another controller's lease replaces ours (ours lapsed while we were paused, say).
    await client().set(
      controllerLeaseKey("stolen"),
      JSON.stringify({ holder: "bot-z", token: 99, expiresAt: Date.now() + 3_000 }),
      "PX",
      3_000,
    );
    await waitFor("it gives up", () => lost.length === 1);
    assert.equal(holder.current(), undefined);
    await holder.stop();
    assert.equal(
      parseControllerLease((await client().get(controllerLeaseKey("stolen"))) ?? "")?.holder,
      "bot-z",
      "stop never releases another's lease",
    );
  });
});
