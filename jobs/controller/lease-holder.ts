import type { Redis } from "ioredis";
import { controllerLeaseKey } from "../controller-lease-key.ts";

/**
 * Holding the controller's lease: one active controller per site. The lease lives in Redis with a
 * TTL; its holder renews it every third of the TTL. A new holder gets a new fencing token (a
 * counter that only grows), which every remediation job carries; agents refuse any other token.
 * A controller that cannot renew in time stops acting before its lease can pass to another.
 */

// KEYS[1] the lease, KEYS[2] the token counter; ARGV: holder, ttl ms, now ms.
// Returns the token when held (renewed or newly taken), 0 when another holds it.
const ACQUIRE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local lease = cjson.decode(current)
  if lease.holder ~= ARGV[1] then return 0 end
  redis.call('SET', KEYS[1], cjson.encode({holder = ARGV[1], token = lease.token, expiresAt = tonumber(ARGV[3]) + tonumber(ARGV[2])}), 'PX', ARGV[2])
  return lease.token
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], cjson.encode({holder = ARGV[1], token = token, expiresAt = tonumber(ARGV[3]) + tonumber(ARGV[2])}), 'PX', ARGV[2])
return token`;

// KEYS[1] the lease; ARGV[1] holder. Gives the lease up only if still ours.
const RELEASE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).holder == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

export interface LeaseEvents {
  onAcquired(token: number): void;
  onLost(): void;
  /**
   * Asked before every renewal: a reason means the holder's loop is wedged, and the lease is
   * given up so that another bot takes over (a wedged loop must not hold the site forever).
   */
  wedged?(): string | undefined;
  onWedged?(reason: string): void;
}

export class LeaseHolder {
  private token: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When our hold is surely over, on our clock: we stop acting before then. */
  private validUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly events: LeaseEvents,
  ) {}

  /** The token while the lease is surely ours, else undefined. */
  current(now = Date.now()): number | undefined {
    return this.token !== undefined && now < this.validUntil ? this.token : undefined;
  }

  start(): void {
    const tick = async () => {
      await this.attempt();
      this.timer = setTimeout(() => void tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
    };
    void tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.token !== undefined) {
      this.token = undefined;
      await this.redis.eval(RELEASE_SCRIPT, 1, controllerLeaseKey(this.site), this.holder).catch(() => {});
    }
  }

  private async attempt(): Promise<void> {
    const wedged = this.events.wedged?.();
    if (wedged !== undefined) {
      // A wedged loop neither takes nor keeps the lease. One that held it stops acting at once
      // and hands it over: the next holder gets a new fencing token, so anything this loop still
      // sends when it wakes up is refused by the agents.
      if (this.token === undefined) return;
      this.token = undefined;
      this.validUntil = 0;
      this.events.onWedged?.(wedged);
      this.events.onLost();
      await this.redis.eval(RELEASE_SCRIPT, 1, controllerLeaseKey(this.site), this.holder).catch(() => {});
      return;
    }
    const asked = Date.now();
    // undefined: Redis did not answer (keep acting until the lease would lapse); 0: another holds it.
    let token: number | undefined;
    try {
      token = Number(
        await this.redis.eval(
          ACQUIRE_SCRIPT,
          2,
          controllerLeaseKey(this.site),
          `harbor-ha:${this.site}:controller:token`,
          this.holder,
          String(this.ttlMs),
          String(asked),
        ),
      );
    } catch {
      token = undefined;
    }
    if (token !== undefined && token > 0) {
      // Counted from when we asked, not when Redis answered: the safe side of a slow reply.
      this.validUntil = asked + this.ttlMs - 200;
      if (this.token !== token) {
        this.token = token;
        this.events.onAcquired(token);
      }
      return;
    }
    if (this.token === undefined) return;
    if (token === 0 || Date.now() >= this.validUntil) {
      // Another holds it (ours lapsed in Redis), or we could not renew in time: stop acting.
      this.token = undefined;
      this.validUntil = 0;
      this.events.onLost();
    }
  }
}
