import { parseJsonObject } from "../support/json.ts";

/**
 * The controller's lease in the control-plane Redis: one active controller per site holds it,
 * and every remediation job it sends carries the lease's fencing token. An agent runs a job only
 * when that token is the lease's current one, so an action from a deposed controller never runs
 * (jobs/executors/remediation/fenced-executor.ts). The controller and the agents share this
 * module, so both read and write the same key and value.
 */

export interface ControllerLease {
  /** Who holds it: a process identity such as "bot@ops-host:4242". */
  readonly holder: string;
  /** Grows by one each time the lease changes hands; a job carries the token it was sent under. */
  readonly token: number;
  /** When the lease lapses unless renewed (ms since the epoch, the holder's clock). */
  readonly expiresAt: number;
}

export function controllerLeaseKey(site: string): string {
  return `harbor-ha:${site}:controller:lease`;
}

/** The lease as JSON, the form stored at controllerLeaseKey. */
export function formatControllerLease(lease: ControllerLease): string {
  return JSON.stringify({ holder: lease.holder, token: lease.token, expiresAt: lease.expiresAt });
}

/** The stored value as a lease, or undefined when it is not one (garbled, or fields missing). */
export function parseControllerLease(text: string): ControllerLease | undefined {
  const value = parseJsonObject(text);
  if (!value) return undefined;
  const { holder, token, expiresAt } = value;
  if (typeof holder !== "string" || !Number.isSafeInteger(token) || typeof expiresAt !== "number") {
    return undefined;
  }
  return { holder, token: token as number, expiresAt };
}
