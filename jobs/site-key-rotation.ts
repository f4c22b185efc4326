import { existsSync } from "node:fs";
import type { Redis } from "ioredis";
import {
  previousSiteKeyFile,
  readSiteKey,
  renderSiteKey,
  type SiteKey,
  siteKeyFromText,
  writeSiteKeyFile,
} from "../config/site-key.ts";
import { HarborHaError } from "../support/errors.ts";
import { KEY_ROTATION_ACTION, keyRotationDetail } from "./audit-chain.ts";
import { AuditLog, type AuditRetention } from "./audit-log.ts";
import { controllerLeaseKey, parseControllerLease } from "./controller-lease-key.ts";
import { resealHarborSecrets } from "./deploy/harbor-secrets-store.ts";

/**
 * `harbor-ha site-key rotate`, on the operations host: a new site key, Harbor's sealed secrets
 * sealed again with it, the rotation chained into the audit log with the old key, the old key
 * kept beside the file (SITEKEYFILE.previous-FINGERPRINT) so that `history --verify` still checks
 * the entries before it. Agents take the new key up by themselves once deploy's host.agent step
 * has copied it to their node (jobs/agent.ts reads the file again on a signature it cannot
 * verify); the bots hold the key in memory, so the rotation waits until none runs.
 */

/** Why a rotation must not start now, or undefined. Pure: the stored controller lease and the time. */
export function rotationBlocker(leaseText: string | null, now: number): string | undefined {
  const lease = leaseText === null ? undefined : parseControllerLease(leaseText);
  if (!lease || lease.expiresAt <= now) return undefined;
  return `${lease.holder} holds the controller lease for ${Math.ceil((lease.expiresAt - now) / 1_000)} s more`;
}

export interface RotationOptions {
  readonly redis: Redis;
  readonly site: string;
  readonly siteKeyFile: string;
  readonly actor: string;
  readonly retention?: AuditRetention;
  /** The next key; a fresh random one unless a test names it. */
  readonly next?: SiteKey;
  readonly now?: () => number;
}

export interface RotationResult {
  readonly from: string;
  readonly to: string;
  readonly harborSecrets: "resealed" | "absent";
  readonly previousFile: string;
  readonly auditId: string;
}

export async function rotateSiteKey(options: RotationOptions): Promise<RotationResult> {
  const now = options.now ?? Date.now;
  const action = "rotate the site key";
  const current = await readSiteKey(options.siteKeyFile);
  const blocker = rotationBlocker(await options.redis.get(controllerLeaseKey(options.site)), now());
  if (blocker) {
    throw new HarborHaError("CONTROLLER_RUNNING", `a bot is running: ${blocker}`, {
      action,
      hint: "stop every `harbor-ha bot` of this site (each holds the key in memory), rotate, then start them again; the agents may keep running",
      context: { site: options.site },
    });
  }
  const next = options.next ?? siteKeyFromText(renderSiteKey(), "new site key");
  const previousFile = previousSiteKeyFile(options.siteKeyFile, current.fingerprint);
  // The old key first: from here on every step can be undone or repeated.
  if (!existsSync(previousFile)) await writeSiteKeyFile(previousFile, current);
  const reseal = await resealHarborSecrets(options.redis, options.site, current, next);
  let auditId: string;
  try {
    auditId = await new AuditLog(options.redis, options.site, current, options.retention).append({
      actor: options.actor,
      action: KEY_ROTATION_ACTION,
      outcome: "ok",
      detail: keyRotationDetail(current.fingerprint, next.fingerprint),
      where: "terminal",
    });
    await writeSiteKeyFile(options.siteKeyFile, next);
  } catch (cause) {
    await reseal.undo().catch(() => {});
    throw new HarborHaError("SITE_KEY_ROTATION_FAILED", `the rotation stopped: ${(cause as Error).message}`, {
      action,
      hint: `the site key is still ${current.fingerprint} and Harbor's secrets are sealed with it; fix the cause and run the rotation again`,
      context: { file: options.siteKeyFile },
      cause,
    });
  }
  return {
    from: current.fingerprint,
    to: next.fingerprint,
    harborSecrets: reseal.status,
    previousFile,
    auditId,
  };
}
