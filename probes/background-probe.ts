import type { ProbeReading } from "./observation.ts";

/**
 * A probe that runs beside the observation rounds instead of inside them (harbor, storage): a
 * round carries its last completed reading and never waits for a slow or hung one. At most one
 * reading runs at a time.
 */
export class BackgroundProbe<T> {
  private last: ProbeReading<T> = { ok: false, error: "not probed yet", durationMs: 0 };
  private running: Promise<void> | undefined;
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: () => Promise<ProbeReading<T>>,
    private readonly everyMs: number,
    private readonly onReading: (reading: ProbeReading<T>) => void,
  ) {}

  get latest(): ProbeReading<T> {
    return this.last;
  }

  /**
   * Starts a reading when one is due (or `now` is forced) and none is running; resolves when the
   * running one is done, for the callers that do want to wait (the first round, stopping).
   */
  refresh(now: number, force = false): Promise<void> {
    if (this.running) return this.running;
    if (!force && now - this.startedAt < this.everyMs) return Promise.resolve();
    this.startedAt = now;
    this.running = this.read().then((reading) => {
      this.last = reading;
      this.running = undefined;
      this.onReading(reading);
    });
    return this.running;
  }

  /** Waits for a reading in flight, if any (readings have their own timeouts). */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
