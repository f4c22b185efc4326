import type { Redis } from "ioredis";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { ControlPlaneSettings } from "../config/schema.ts";
import { openControlPlaneRedis } from "../support/control-plane-redis.ts";
import type { Logger } from "../support/logger.ts";
import { type NodeObservation, observationChannel, observationKey } from "./observation.ts";
import { describeError } from "./reading.ts";

/**
 * How long an observation stays at its key: ten rounds, and at least 10 s. A key that expired
 * means the agent stopped observing (or publishing) long enough for the controller to say so.
 */
export function observationTtlMs(intervalMs: number): number {
  return Math.max(10 * intervalMs, 10_000);
}

/** A publish that does not answer within this is given up (the next observation follows soon). */
const COMMAND_TIMEOUT_MS = 2_000;

/**
 * The control-plane connection observations go out on. It reconnects forever (a Redis restart
 * is survived), but never queues commands while disconnected: an outage fails a publish at once
 * instead of piling up observations that are stale by the time Redis returns.
 */
export function createPublisherRedis(settings: ControlPlaneSettings, credentials: RedisCredentials): Redis {
  return openControlPlaneRedis(settings, credentials, {
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
}

/**
 * Publishes each observation to the control-plane Redis: `SET key JSON PX ttl` for whoever reads
 * the latest, `PUBLISH channel JSON` for whoever follows along, in one MULTI. Never blocks the
 * loop: one publish is in flight at a time and only the newest waiting observation follows it
 * (an older one is worth nothing once a newer exists). An outage is logged when it starts and
 * when it ends, with how many observations it cost.
 */
export class ObservationPublisher {
  private next: NodeObservation | undefined;
  private sending = false;
  private drained: Promise<void> = Promise.resolve();
  private failingSince: number | undefined;
  private lost = 0;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly onOutcome: (ok: boolean) => void = () => {},
  ) {}

  publish(observation: NodeObservation): void {
    if (this.next && this.failingSince !== undefined) this.lost += 1;
    this.next = observation;
    if (this.sending) return;
    this.sending = true;
    this.drained = this.drain();
  }

  /** Waits for the publish in flight (bounded by the command timeout). */
  flush(): Promise<void> {
    return this.drained;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const observation = this.next;
        this.next = undefined;
        try {
          await this.send(observation);
          this.onOutcome(true);
          if (this.failingSince !== undefined) {
            this.logger.info(
              {
                event: "observation.publish_resumed",
                lost: this.lost,
                outageMs: Date.now() - this.failingSince,
              },
              `publishing observations again (${this.lost} lost while the control-plane Redis was away)`,
            );
            this.failingSince = undefined;
            this.lost = 0;
          }
        } catch (error) {
          this.onOutcome(false);
          this.lost += 1;
          if (this.failingSince === undefined) {
            this.failingSince = Date.now();
            this.logger.warn(
              { event: "observation.publish_failed", err: describeError(error) },
              "cannot publish observations to the control-plane Redis; probing goes on",
            );
          }
        }
      }
    } finally {
      // Set right after the loop's last check, with no await between: an observation handed
      // over after it starts a new drain instead of waiting behind one that is ending.
      this.sending = false;
    }
  }

  private async send(observation: NodeObservation): Promise<void> {
    const json = JSON.stringify(observation);
    const replies = await this.redis
      .multi()
      .set(observationKey(observation.site, observation.node), json, "PX", this.ttlMs)
      .publish(observationChannel(observation.site), json)
      .exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (!replies) throw new Error("the transaction was discarded");
    if (failed) throw failed;
  }
}
