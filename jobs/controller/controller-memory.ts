import type { Redis } from "ioredis";
import type { ControllerMemory } from "./decide.ts";
import type { Incident } from "./incident.ts";

/**
 * What the controller must not forget across a restart or a change of controller: where the
 * primary was, which nodes it fenced, recent failovers, pause, and the open incident. One JSON
 * value in Redis, written by the lease holder only.
 */
export interface StoredMemory {
  readonly lastPrimary: string | null;
  readonly lastPrimaryLsn: string | null;
  /**
   * The standby that confirmed every commit the last primary acknowledged, as last observed
   * (durability.ts confirmingStandby); null while it commits alone or waits for several.
   */
  readonly confirmingStandby: string | null;
  readonly fenced: readonly string[];
  readonly diverged: readonly string[];
  readonly failovers: readonly number[];
  readonly paused: boolean;
  readonly incident: Incident | null;
}

export const EMPTY_MEMORY: StoredMemory = {
  lastPrimary: null,
  lastPrimaryLsn: null,
  confirmingStandby: null,
  fenced: [],
  diverged: [],
  failovers: [],
  paused: false,
  incident: null,
};

export function memoryKey(site: string): string {
  return `harbor-ha:${site}:controller:memory`;
}

export async function loadMemory(redis: Redis, site: string): Promise<StoredMemory> {
  const text = await redis.get(memoryKey(site));
  if (!text) return EMPTY_MEMORY;
  try {
    return { ...EMPTY_MEMORY, ...(JSON.parse(text) as Partial<StoredMemory>) };
  } catch {
    return EMPTY_MEMORY;
  }
}

export async function saveMemory(redis: Redis, site: string, memory: StoredMemory): Promise<void> {
  await redis.set(memoryKey(site), JSON.stringify(memory));
}

/** The view decide() takes. */
export function decideMemory(
  stored: StoredMemory,
  confirmations: ReadonlyMap<string, number>,
): ControllerMemory {
  return {
    confirmations,
    lastPrimary: stored.lastPrimary,
    lastPrimaryLsn: stored.lastPrimaryLsn,
    fenced: new Set(stored.fenced),
    diverged: new Set(stored.diverged),
    failovers: stored.failovers,
    paused: stored.paused,
  };
}
