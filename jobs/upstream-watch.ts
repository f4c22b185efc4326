import type { PostgresFacts } from "../probes/observation.ts";
import { liveUpstream } from "./primary-lease.ts";

/**
 * When this node's standby last streamed WAL from a primary, as the agent saw it: from every
 * observation round and from the promote's own reads. A promotion on the lease's word alone
 * (the old primary could not be fenced) waits until the link has been quiet for a
 * wal_receiver_timeout, because a receiver can also stop at once on an error while the primary
 * on the far side has not yet seen the link break and still serves.
 */
export class UpstreamWatch {
  private lastStreamingAt: number;

  /** Nothing seen yet counts as streaming at the agent's start: the quiet time starts then. */
  constructor(startedAt: number = Date.now()) {
    this.lastStreamingAt = startedAt;
  }

  saw(postgres: Pick<PostgresFacts, "role" | "walReceiver">, at: number = Date.now()): void {
    if (liveUpstream(postgres) !== null) this.lastStreamingAt = Math.max(this.lastStreamingAt, at);
  }

  /** How long no primary has streamed to this node. */
  quietForMs(now: number = Date.now()): number {
    return Math.max(0, now - this.lastStreamingAt);
  }
}
