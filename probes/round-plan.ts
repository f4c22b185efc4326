import type { ObservationTrigger } from "./observation.ts";

/**
 * What the next observation round does (pure): why it runs, what it says about that, and how it
 * treats the slow probes (harbor, storage), which run beside the rounds on their own cadence.
 *
 * - the first round of an agent waits for every probe, so the first observation is complete;
 * - a Docker event starts the slow probes at once (a Harbor component may have died) but does
 *   not wait for them: the PostgreSQL and VIP facts that follow a `die` must not wait for an
 *   HTTP health check that may hang on the very failure being reported;
 * - an interval round starts them when they are due and carries their last reading.
 *
 * Only a round that follows Docker events confirms the container lists with inspect: that is
 * the moment the list can be behind, and inspecting every round would cost the agent a fifth
 * of its CPU time.
 */
export interface RoundPlan {
  readonly trigger: ObservationTrigger;
  readonly triggerDetail?: string;
  readonly slowProbes: "await" | "start-now" | "when-due";
  /**
   * Docker reported a container change just now: container lists are confirmed with inspect
   * this round, as Docker's list lags its own events by a moment (managed-containers.ts).
   */
  readonly afterDockerEvent: boolean;
}

/** Names at most this many events in a detail; a burst (a whole stack restarting) is summarised. */
export const MAX_NAMED_EVENTS = 6;

export function planRound(pendingEvents: readonly string[], firstRound: boolean): RoundPlan {
  if (firstRound) {
    return pendingEvents.length > 0
      ? {
          trigger: "start",
          triggerDetail: describeEvents(pendingEvents),
          slowProbes: "await",
          afterDockerEvent: true,
        }
      : { trigger: "start", slowProbes: "await", afterDockerEvent: false };
  }
  if (pendingEvents.length > 0) {
    return {
      trigger: "docker-event",
      triggerDetail: describeEvents(pendingEvents),
      slowProbes: "start-now",
      afterDockerEvent: true,
    };
  }
  return { trigger: "interval", slowProbes: "when-due", afterDockerEvent: false };
}

/** "postgres-node02 kill (signal 9), postgres-node02 die (exit 137)", repeats dropped, oldest first. */
export function describeEvents(events: readonly string[]): string {
  const unique = [...new Set(events)];
  const named = unique.slice(0, MAX_NAMED_EVENTS).join(", ");
  const more = unique.length - MAX_NAMED_EVENTS;
  return more > 0 ? `${named} and ${more} more` : named;
}

/** How long to wait before the next round: the interval counts from a round's start. */
export function delayBeforeNextRound(intervalMs: number, roundStartedAt: number, now: number): number {
  return Math.max(0, intervalMs - (now - roundStartedAt));
}
