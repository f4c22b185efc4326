import { get } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";
import type { CoreConfig } from "./config.ts";
import type { CheckResult } from "./health.ts";

/**
 * The real checks behind the health answer, each with a short deadline and a fresh connection:
 * after a failover the VIP points at another PostgreSQL, and a pooled connection to the old one
 * would tell a stale story.
 */
const CHECK_TIMEOUT_MS = 2_000;

function message(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return message(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}

/** `select 1` on Harbor's database through the address harbor.yml names (the VIP). */
export async function checkDatabase(config: CoreConfig): Promise<CheckResult> {
  const { database } = config;
  const client = new pg.Client({
    host: database.host,
    port: database.port,
    database: database.name,
    user: database.user,
    password: database.password,
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    query_timeout: CHECK_TIMEOUT_MS,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (error) {
    return `${database.host}:${database.port}/${database.name}: ${message(error)}`;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function checkRedis(config: CoreConfig): Promise<CheckResult> {
  const { redis } = config;
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    ...(redis.password ? { password: redis.password } : {}),
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_MS,
    commandTimeout: CHECK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with "Connection is closed."; the socket's own error says why.
  let socketError: unknown;
  client.on("error", (error) => {
    socketError = error;
  });
  try {
    await client.connect();
    const answer = await client.ping();
    return answer === "PONG" ? undefined : `${redis.host}:${redis.port}: PING answered ${answer}`;
  } catch (error) {
    return `${redis.host}:${redis.port}: ${message(socketError ?? error)}`;
  } finally {
    client.disconnect();
  }
}

/** The registry's API root answers 200 when it is up (it has no auth of its own here). */
export function checkRegistry(config: CoreConfig): Promise<CheckResult> {
  return new Promise((resolve) => {
    const request = get(`${config.registryUrl}/v2/`, { timeout: CHECK_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(
        response.statusCode === 200 ? undefined : `${config.registryUrl}/v2/ answered ${response.statusCode}`,
      );
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)));
    request.on("error", (error) => resolve(`${config.registryUrl}/v2/: ${message(error)}`));
  });
}
