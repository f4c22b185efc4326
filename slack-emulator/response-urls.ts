import { randomBytes } from "node:crypto";

/** What a response_url belongs to: the command or click that made it. */
export interface ResponseTarget {
  readonly channel: string;
  /** Who invoked the command or clicked: ephemeral replies are visible to them alone. */
  readonly user: string;
  /**
   * The message `replace_original` and `delete_original` act on: the clicked message for a
   * button, the last reply through this URL (or the ack's) for a slash command.
   */
  original: string | undefined;
  /** The thread the click happened in, so an in-channel reply to a button stays in it. */
  readonly threadTs: string | undefined;
}

interface Entry<T> {
  readonly target: T;
  readonly expiresAt: number;
  usesLeft: number;
}

export type ResponseUrlUse<T> =
  | { readonly ok: true; readonly target: T; readonly usesLeft: number }
  | { readonly ok: false; readonly status: 404 | 410; readonly error: string; readonly detail: string };

/**
 * Response URLs as Slack hands them out: each may be used `uses` times within `ttlMs` (5 times
 * in 30 minutes), after which it answers 404/410 with a reason instead of posting.
 */
export class ResponseUrls<T extends ResponseTarget = ResponseTarget> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly options: { readonly uses: number; readonly ttlMs: number; readonly now: () => number },
  ) {}

  /** A new URL id for a command or click. */
  issue(target: T): string {
    this.prune();
    const id = randomBytes(12).toString("hex");
    this.entries.set(id, {
      target,
      expiresAt: this.options.now() + this.options.ttlMs,
      usesLeft: this.options.uses,
    });
    return id;
  }

  /** The target of a URL, if it's still valid. Counts as one use: call it only when a reply comes. */
  use(id: string): ResponseUrlUse<T> {
    const entry = this.entries.get(id);
    if (!entry) {
      return {
        ok: false,
        status: 404,
        error: "no_such_response_url",
        detail: "this response_url was never issued by this emulator (or it was restarted)",
      };
    }
    if (this.options.now() >= entry.expiresAt) {
      return {
        ok: false,
        status: 410,
        error: "expired_url",
        detail: `a response_url may be used for ${Math.round(this.options.ttlMs / 60_000)} minutes after the command`,
      };
    }
    if (entry.usesLeft <= 0) {
      return {
        ok: false,
        status: 410,
        error: "used_url",
        detail: `a response_url may be used ${this.options.uses} times; post further updates with chat.postMessage`,
      };
    }
    entry.usesLeft -= 1;
    return { ok: true, target: entry.target, usesLeft: entry.usesLeft };
  }

  private prune(): void {
    const now = this.options.now();
    // Expired entries are kept for a while so that a late use still gets "expired", not "unknown".
    for (const [id, entry] of this.entries) {
      if (now >= entry.expiresAt + this.options.ttlMs) this.entries.delete(id);
    }
  }
}
