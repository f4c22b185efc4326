/** What the writer saw: acknowledged commits (with the server that took them) and failures. */
export interface Ack {
  readonly id: number;
  readonly at: number;
  readonly server: string;
}

/** The expected primary when any server that takes the write will do (the outage's end counts). */
export const ANY_SERVER = "*";

/**
 * When the site was writable again after a fault at `since`: the first acknowledged write taken
 * by the expected primary. When the system restarts the primary in place (expected is the old
 * primary) or any server will do, only a write after the outage counts: a commit that slipped in
 * before the fault took effect says nothing. Pure.
 */
export function writableAgainAt(
  acks: readonly Ack[],
  failures: readonly number[],
  since: number,
  expected: string,
  oldPrimary: string,
): number | undefined {
  const firstFailure = failures.find((at) => at >= since);
  const afterOutage = expected === oldPrimary || expected === ANY_SERVER;
  const from = afterOutage ? firstFailure : since;
  if (from === undefined) return undefined;
  return acks.find((ack) => ack.at >= from && (expected === ANY_SERVER || ack.server === expected))?.at;
}
