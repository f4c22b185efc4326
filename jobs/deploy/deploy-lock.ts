import type { Redis } from "ioredis";
import { HarborHaError } from "../../support/errors.ts";
import { type LockHolder, SiteLock } from "../site-lock.ts";

/** How long a deploy lock lives without renewal: a dead deployer's lock frees itself. */
export const DEPLOY_LOCK_TTL_MS = 10 * 60_000;
const RENEW_EVERY_MS = 60_000;

/**
 * The one deploy lock of a site, taken by every deploy (Slack's and the CLI's) and read by the
 * controller, which does not run a plan of its own while a deploy changes the nodes.
 */
export function deployLock(redis: Redis, site: string): SiteLock {
  return new SiteLock(redis, site, "deploy");
}

export function describeHolder(holder: LockHolder): string {
  return `${holder.owner} is deploying since ${new Date(holder.since).toISOString()} (${holder.what})`;
}

/**
 * Runs `work` under the deploy lock, renewed while it runs and released after, even when it
 * throws. A lock someone else holds is a DEPLOY_LOCKED error naming them: two deploys at once
 * would restart the same services under each other.
 */
export async function underDeployLock<T>(
  lock: SiteLock,
  owner: string,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  const acquired = await lock.acquire(owner, what, DEPLOY_LOCK_TTL_MS);
  if (!acquired.ok) {
    const holder = acquired.holder;
    throw new HarborHaError(
      "DEPLOY_LOCKED",
      holder ? describeHolder(holder) : "another deploy holds the lock",
      {
        action: "take the site's deploy lock",
        hint: "wait for that deploy to end (its lock expires 10 minutes after its deployer stops renewing it)",
      },
    );
  }
  const renew = setInterval(
    () => void lock.renew(acquired.holder.token, DEPLOY_LOCK_TTL_MS).catch(() => {}),
    RENEW_EVERY_MS,
  );
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await lock.release(acquired.holder.token).catch(() => false);
  }
}
