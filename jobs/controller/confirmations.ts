import { findingKey } from "./decide.ts";
import type { ClusterSnapshot } from "./snapshot.ts";

/** A finding's confirmation so far: how many probe intervals it has held for, and since when. */
export interface Sighting {
  readonly count: number;
  readonly firstAt: number;
  readonly countedAt: number;
}

export interface ConfirmationInput {
  readonly required: number;
  readonly intervalMs: number;
  readonly now: number;
  /** Nodes whose latest observation was taken because Docker reported a managed container's death. */
  readonly dockerEventNodes: ReadonlySet<string>;
}

/**
 * For how many probe intervals in a row each finding has held: the controller acts on a finding
 * only once it is confirmed (policy.confirmations), so one lost probe never starts a failover.
 * Snapshots are re-evaluated on every observation of every node and on a timer; a finding counts
 * at most once per probe interval, whoever reported it. A Docker event (a container's death,
 * seen at once) counts as all but the last confirmation: one agreeing re-check is then enough.
 * Pure.
 */
export function updateConfirmations(
  previous: ReadonlyMap<string, Sighting>,
  snapshot: ClusterSnapshot,
  input: ConfirmationInput,
): Map<string, Sighting> {
  const next = new Map<string, Sighting>();
  for (const finding of snapshot.findings) {
    const key = findingKey(finding.code, finding.node);
    if (next.has(key)) continue;
    const before = previous.get(key);
    let sighting: Sighting = before ?? { count: 1, firstAt: input.now, countedAt: input.now };
    // 0.8: observations arrive on the agents' clocks, a little early or late.
    if (before && input.now - before.countedAt >= input.intervalMs * 0.8) {
      sighting = { ...before, count: before.count + 1, countedAt: input.now };
    }
    if (
      finding.node !== undefined &&
      input.dockerEventNodes.has(finding.node) &&
      sighting.count < input.required - 1
    ) {
      sighting = { ...sighting, count: input.required - 1 };
    }
    next.set(key, sighting);
  }
  return next;
}

/** The counts decide() reads. */
export function confirmationCounts(sightings: ReadonlyMap<string, Sighting>): Map<string, number> {
  return new Map([...sightings].map(([key, sighting]) => [key, sighting.count]));
}
