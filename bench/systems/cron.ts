import { sh } from "../processes.ts";

/**
 * A crontab's "every 30 s" (`* * * * *` plus `sleep 30;`): each script runs in its node's
 * namespace as root on the same 30 s boundaries. The phase is random when it starts, as a
 * fault's moment is against the wall clock. Bounded: each script run has a timeout, and stop()
 * ends the loop.
 */
export class Crontab {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly entries: readonly { node: string; script: string }[],
    private readonly periodMs = 30_000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(Math.random() * this.periodMs);
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.running = Promise.all(
        this.entries.map((entry) =>
          sh(["sh", entry.script], { netns: entry.node, allowFailure: true, timeoutMs: 25_000 }),
        ),
      );
      this.schedule(this.periodMs);
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
