import { controllerLeaseKey, parseControllerLease } from "../controller-lease-key.ts";

/**
 * Whether a remediation job may run, from the token it carries and the controller lease as the
 * agent just read it (pure). Only an exact match runs: a lower token is a deposed controller's,
 * a higher one a controller that claims a lease it does not hold; and with no lease (expired, or
 * never taken) nobody may act. Agents compare, never order, so a token reset cannot fool them.
 */

export type TokenVerdict =
  | { readonly ok: true; readonly holder: string }
  | { readonly ok: false; readonly message: string };

export function judgeFencingToken(
  site: string,
  action: string,
  requestToken: unknown,
  storedLease: string | null,
): TokenVerdict {
  const key = controllerLeaseKey(site);
  if (!Number.isSafeInteger(requestToken)) {
    return {
      ok: false,
      message: `${action} refused: its fencingToken ${JSON.stringify(requestToken)} is not an integer`,
    };
  }
  if (storedLease === null) {
    return {
      ok: false,
      message: `${action} refused: request token ${requestToken}, but no controller holds the lease (${key} is absent)`,
    };
  }
  const lease = parseControllerLease(storedLease);
  if (!lease) {
    return {
      ok: false,
      message: `${action} refused: request token ${requestToken}, but ${key} holds no lease ({holder, token, expiresAt})`,
    };
  }
  if (lease.token !== requestToken) {
    const why = (requestToken as number) < lease.token ? "a deposed controller's" : "newer than the lease";
    return {
      ok: false,
      message:
        `${action} refused: request token ${requestToken} is not the lease's current token ` +
        `${lease.token} (held by ${lease.holder}): ${why}`,
    };
  }
  return { ok: true, holder: lease.holder };
}
