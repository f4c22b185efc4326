import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A lock on one kind of work per site (a deploy, later a remediation), held in Redis with an
 * owner, so that a second request is told who holds it and since when. It expires on its own
 * if its holder dies; a holder renews it while it works. Only the token's holder can renew or
 * release it.
 */

export interface LockHolder {
  /** Who it is for: a Slack user ID, "cli:root", "controller". */
  readonly owner: string;
  /** What is being done: "deploy of Harbor 2.2.2 (request ab12cd)". */
  readonly what: string;
  readonly since: number;
  readonly token: string;
}

export type Acquired =
  | { readonly ok: true; readonly holder: LockHolder }
  | { readonly ok: false; readonly holder: LockHolder | undefined };

// KEYS[1] the lock; ARGV[1] the token, ARGV[2] new value or "", ARGV[3] ttl ms. Only the holder acts.
const RENEW_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if not value or cjson.decode(value).token ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], value, 'PX', ARGV[3]) end
return 1`;

export class SiteLock {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    private readonly name: string,
  ) {}

  private get key(): string {
    return `harbor-ha:${this.site}:lock:${this.name}`;
  }

  async acquire(owner: string, what: string, ttlMs: number, now = Date.now()): Promise<Acquired> {
    const holder: LockHolder = { owner, what, since: now, token: randomUUID() };
    const set = await this.redis.set(this.key, JSON.stringify(holder), "PX", ttlMs, "NX");
    return set === "OK" ? { ok: true, holder } : { ok: false, holder: await this.current() };
  }

  /** Extends the lock; false when it is no longer ours (expired and taken by someone else). */
  async renew(token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW_SCRIPT, 1, this.key, token, "renew", String(ttlMs))) === 1;
  }

  async release(token: string): Promise<boolean> {
    return (await this.redis.eval(RENEW_SCRIPT, 1, this.key, token, "", "0")) === 1;
  }

  async current(): Promise<LockHolder | undefined> {
    const value = await this.redis.get(this.key);
    return value ? (JSON.parse(value) as LockHolder) : undefined;
  }
}
