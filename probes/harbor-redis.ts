import { Redis } from "ioredis";
import type { SiteConfig } from "../config/schema.ts";
import type { ProbeReading, RedisFacts } from "./observation.ts";
import { readProbe } from "./reading.ts";

/** ROLE's first element as RedisFacts' role (pure); anything else is "unknown". */
export function redisRoleFrom(reply: unknown): RedisFacts["role"] {
  const first = Array.isArray(reply) ? reply[0] : undefined;
  const name = Buffer.isBuffer(first) ? first.toString() : first;
  return name === "master" || name === "slave" || name === "sentinel" ? name : "unknown";
}

/**
 * Harbor's Redis (site.harborRedis): PING, then ROLE. One connection is kept between probes, and
 * it never retries or queues on its own: a command on a dead connection fails at once, and the
 * next probe makes a fresh connection. So an outage is a failed reading, never a pile of
 * waiting commands.
 */
export class HarborRedisProbe {
  private client: Redis | undefined;

  constructor(
    private readonly target: SiteConfig["harborRedis"],
    private readonly timeoutMs: number,
  ) {}

  read(): Promise<ProbeReading<RedisFacts>> {
    const where = `Harbor's Redis at ${this.target.host}:${this.target.port}`;
    return readProbe(this.timeoutMs, where, async () => {
      try {
        const client = await this.connected();
        // One round trip for both commands.
        const replies = (await client.pipeline().ping().role().exec()) ?? [];
        const [[pingError, pong] = [], [roleError, role] = []] = replies;
        if (pingError) throw pingError;
        if (pong !== "PONG") throw new Error(`PING answered ${JSON.stringify(pong)}`);
        if (roleError) throw roleError;
        return { role: redisRoleFrom(role) };
      } catch (error) {
        this.close();
        throw error;
      }
    });
  }

  close(): void {
    this.client?.disconnect();
    this.client = undefined;
  }

  private async connected(): Promise<Redis> {
    if (this.client && this.client.status === "ready") return this.client;
    this.close();
    const client = new Redis({
      host: this.target.host,
      port: this.target.port,
      lazyConnect: true,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    // Failures reach the probe through its commands; the event would only be printed by ioredis.
    client.on("error", () => {});
    this.client = client;
    await client.connect();
    return client;
  }
}
