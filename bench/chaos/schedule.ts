/**
 * The chaos run's schedule (pure): which faults, in which order, from a seed. The same seed
 * gives the same schedule on any machine, so a failing run can be replayed fault for fault.
 */

export const CHAOS_FAULTS = [
  "postgres-kill",
  "keepalived-kill",
  "keepalived-stop",
  "standby-kill",
  "link-cut",
  "control-cut",
  "postmaster-sigstop",
  "agent-kill",
  "bot-kill",
  "redis-restart",
] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

/** What each fault does to the lab, for the table. */
export const CHAOS_FAULT_TITLES: Record<ChaosFault, string> = {
  "postgres-kill": "docker kill of the primary's PostgreSQL",
  "keepalived-kill": "docker kill of keepalived on the VIP holder",
  "keepalived-stop": "docker stop of keepalived on the VIP holder",
  "standby-kill": "docker kill of the standby's PostgreSQL",
  "link-cut": "the primary's node cut off the network, healed 15 s later",
  "control-cut":
    "the primary's node cut off from the control host only (Redis, SSH), the nodes still in touch, healed 15 s later",
  "postmaster-sigstop": "SIGSTOP to the primary's postmaster",
  "agent-kill": "SIGKILL to a node's agent (the lab starts it again)",
  "bot-kill": "SIGKILL to the active bot (a standby bot takes over; a new standby starts)",
  "redis-restart": "the control-plane Redis stopped for 5 s and started again",
};

/** mulberry32: a tiny, well-mixed 32-bit generator; enough for a fault schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` faults drawn from `seed`. Each kind appears once before any repeats (as far as count
 * allows), so even a short run covers the matrix; the rest is drawn uniformly.
 */
export function chaosSchedule(seed: number, count: number): ChaosFault[] {
  const random = seededRandom(seed);
  const shuffled = [...CHAOS_FAULTS];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as ChaosFault, shuffled[i] as ChaosFault];
  }
  const schedule = shuffled.slice(0, count);
  while (schedule.length < count) {
    schedule.push(CHAOS_FAULTS[Math.floor(random() * CHAOS_FAULTS.length)] as ChaosFault);
  }
  return schedule;
}
