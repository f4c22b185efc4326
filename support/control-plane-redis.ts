import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Redis, type RedisOptions } from "ioredis";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { ControlPlaneSettings } from "../config/schema.ts";
import { HarborHaError } from "./errors.ts";
import { redactRedisUrl } from "./redis.ts";

/**
 * The one way into the control-plane Redis: the site's URL and TLS settings plus the caller's
 * own ACL user. Every connection of the bot, the controller, the CLI, the agents and the tests
 * that talk to a site's Redis is made here, so none can forget the CA or the password.
 */

/** The site's TLS files, read as they are when a connection is made (a renewed cert is picked up). */
function tlsOptions(settings: ControlPlaneSettings): ConnectionOptions | undefined {
  const { tls } = settings;
  if (!tls) return undefined;
  const read = (file: string, field: string) => {
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new HarborHaError("CONFIG_INVALID", `cannot read ${file} (controlPlane.tls.${field})`, {
        action: "connect to the control-plane Redis over TLS",
        hint: "check the path and its permissions; `harbor-ha config check` lists every file it cannot read",
        context: { file, field },
        cause,
      });
    }
  };
  return {
    ca: read(tls.caFile, "caFile"),
    ...(tls.certFile ? { cert: read(tls.certFile, "certFile") } : {}),
    ...(tls.keyFile ? { key: read(tls.keyFile, "keyFile") } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
  };
}

/** The ioredis options for this site and caller, on top of `extra` (timeouts, offline queue). */
export function controlPlaneRedisOptions(
  settings: ControlPlaneSettings,
  credentials: RedisCredentials,
  extra: RedisOptions = {},
): RedisOptions {
  const tls = tlsOptions(settings);
  return {
    ...extra,
    ...(tls ? { tls } : {}),
    ...(credentials.username ? { username: credentials.username } : {}),
    ...(credentials.password ? { password: credentials.password } : {}),
    // Names the connection in CLIENT LIST, so an operator sees which role holds which socket.
    connectionName: extra.connectionName ?? `harbor-ha-${credentials.role.replace(":", "-")}`,
  };
}

/** For logs and errors: the URL without a password, and who logs in. */
export function describeControlPlane(settings: ControlPlaneSettings, credentials: RedisCredentials): string {
  const user = credentials.username ? ` as ${credentials.username}` : " without credentials";
  return `${redactRedisUrl(settings.redisUrl)}${settings.tls ? " (TLS)" : ""}${user}`;
}

/**
 * A connection that waits through a Redis restart instead of failing (maxRetriesPerRequest null,
 * which BullMQ requires of a worker's connection) and never gives up reconnecting.
 */
export function openControlPlaneRedis(
  settings: ControlPlaneSettings,
  credentials: RedisCredentials,
  options: RedisOptions = {},
): Redis {
  return new Redis(
    settings.redisUrl,
    controlPlaneRedisOptions(settings, credentials, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
      ...options,
    }),
  );
}

/** What the operator should check, by what Redis said. */
function unreachableHint(message: string, settings: ControlPlaneSettings): string {
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(message)) {
    return "the Redis user or password is wrong or missing: check controlPlane.auth and the variable it names, and the users in Redis's ACL (`harbor-ha redis acl` prints them)";
  }
  if (/certificate|self[- ]signed|SSL|TLS|wrong version number/i.test(message)) {
    return "TLS failed: check controlPlane.tls (caFile, serverName) and that the URL is rediss:// for a TLS port";
  }
  return `check controlPlane.redisUrl (${redactRedisUrl(settings.redisUrl)}) in the site config and that Redis runs there (\`harbor-ha lab up\` starts the lab's)`;
}

/**
 * Checks that the control-plane Redis answers and takes these credentials before a command
 * queues anything, so that a wrong URL, CA or password is one clear error instead of a hang.
 */
export async function assertControlPlaneReachable(
  settings: ControlPlaneSettings,
  credentials: RedisCredentials,
  timeoutMs = 3_000,
): Promise<void> {
  const probe = new Redis(
    settings.redisUrl,
    controlPlaneRedisOptions(settings, credentials, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    }),
  );
  // ioredis rejects connect() with "Connection is closed"; why (WRONGPASS, a TLS error) comes
  // as an error event just before.
  let reported: Error | undefined;
  probe.on("error", (error: Error) => {
    reported = error;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    const message = [reported?.message, (cause as Error).message]
      .filter((text, index, all) => text && all.indexOf(text) === index)
      .join("; ");
    throw new HarborHaError(
      "REDIS_UNREACHABLE",
      `${describeControlPlane(settings, credentials)}: ${message}`,
      {
        action: "connect to the control-plane Redis",
        hint: unreachableHint(message, settings),
        context: { url: redactRedisUrl(settings.redisUrl), role: credentials.role },
        cause,
      },
    );
  } finally {
    probe.disconnect();
  }
}
