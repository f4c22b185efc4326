import { hostname, userInfo } from "node:os";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { ControlPlaneSettings } from "../config/schema.ts";
import { openControlPlaneRedis } from "../support/control-plane-redis.ts";

/** Who the CLI is, in locks and the audit log: `cli:USER@HOST`. */
export function cliActor(): string {
  return `cli:${userInfo().username}@${hostname()}`;
}

/**
 * Runs `work` under the site's deploy lock, the one Slack deploys and the controller honour, so a
 * CLI deploy or key rotation never runs beside another deploy or a failover.
 */
export async function underCliDeployLock<T>(
  controlPlane: ControlPlaneSettings,
  credentials: RedisCredentials,
  site: string,
  purpose: string,
  work: () => Promise<T>,
): Promise<T> {
  const { deployLock, underDeployLock } = await import("../jobs/deploy/deploy-lock.ts");
  const redis = openControlPlaneRedis(controlPlane, credentials);
  redis.on("error", () => {});
  try {
    return await underDeployLock(deployLock(redis, site), cliActor(), purpose, work);
  } finally {
    redis.disconnect();
  }
}
