import type { Redis, RedisOptions } from "ioredis";
import { loadSiteConfig } from "../../config/load.ts";
import {
  type RedisCredentials,
  type RedisRole,
  resolveRedisCredentials,
} from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { labPaths, readEnvFile } from "../../lab/index.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";

/** A role's login to the running lab's Redis, from the lab's env file (the controller by default). */
export async function labRedisCredentials(
  site: SiteConfig,
  role: RedisRole = "controller",
): Promise<RedisCredentials> {
  return resolveRedisCredentials(site, role, await readEnvFile(labPaths().env));
}

/**
 * A connection to the running lab's control-plane Redis as the product makes it (TLS with the
 * lab's CA, the role's ACL user): tests read and write there only as a real role could.
 */
export async function openLabRedis(
  role: RedisRole = "controller",
  options: RedisOptions = {},
): Promise<Redis> {
  const { site } = await loadSiteConfig(labPaths().config);
  const redis = openControlPlaneRedis(site.controlPlane, await labRedisCredentials(site, role), options);
  redis.on("error", () => {});
  return redis;
}
