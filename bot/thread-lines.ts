import type { SlackSender } from "./slack-sender.ts";

/**
 * Lines for one thread, posted as they come but never faster than the channel allows: the first
 * line goes at once, and lines that arrive while a post waits its turn go together in the next
 * message. A deploy's fourteen quick steps become a few messages instead of fourteen seconds of
 * queue. Counts the messages it posted.
 */
export class ThreadLines {
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  posted = 0;

  constructor(
    private readonly sender: SlackSender,
    private readonly channel: string,
    private readonly threadTs: string,
    /** A post that failed (after the sender's own retries): its lines are dropped, the rest go on. */
    private readonly onError: (error: unknown, lines: readonly string[]) => void = () => {},
  ) {}

  add(line: string): void {
    this.pending.push(line);
    this.flushing ??= this.flush();
  }

  /** Resolves once every line added so far is posted. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Never rejects: nobody may be waiting on it when a post fails. */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending.splice(0);
      try {
        await this.sender.post(this.channel, { text: lines.join("\n"), thread_ts: this.threadTs });
        this.posted += 1;
      } catch (error) {
        this.onError(error, lines);
      }
    }
    this.flushing = undefined;
  }
}
