import type Docker from "dockerode";
import type { Logger } from "../support/logger.ts";
import {
  DOCKER_EVENT_FILTERS,
  type DockerEvent,
  eventTrigger,
  JsonLineSplitter,
} from "./docker-event-trigger.ts";
import { describeError } from "./reading.ts";
import { WakeableSleep } from "./wakeable-sleep.ts";

export interface DockerEventWatchOptions {
  readonly docker: Docker;
  /** Names the daemon in logs (its socket). */
  readonly where: string;
  /** Called with "postgres-node02 die (exit 137)" for each triggering event. */
  readonly onTrigger: (detail: string) => void;
  readonly logger: Logger;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface DockerEventWatch {
  stop(): void;
}

/**
 * Follows the node's Docker event stream for managed containers. When the stream ends or Docker
 * is down, it reconnects with a doubling backoff, asking Docker for the events since the stream
 * was lost, so a `die` during the gap still triggers an observation (a repeat costs one round).
 * The loss and the return are logged once each, not once per attempt.
 */
export function watchDockerEvents(options: DockerEventWatchOptions): DockerEventWatch {
  const { docker, where, onTrigger, logger } = options;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const pause = new WakeableSleep();
  let stopped = false;
  let abort = new AbortController();
  let current: NodeJS.ReadableStream | undefined;

  const follow = (stream: NodeJS.ReadableStream) =>
    new Promise<string>((resolve) => {
      const lines = new JsonLineSplitter();
      stream.on("data", (chunk: Buffer | string) => {
        for (const event of lines.push(chunk.toString())) {
          const detail = eventTrigger(event as DockerEvent);
          if (detail) onTrigger(detail);
        }
      });
      stream.once("end", () => resolve("the event stream ended"));
      stream.once("close", () => resolve("the event stream closed"));
      stream.once("error", (error: unknown) => resolve(describeError(error)));
    });

  const run = async () => {
    let backoff = minBackoff;
    let since: number | undefined;
    // undefined until the first attempt: the first failure and each loss are logged, retries not.
    let healthy: boolean | undefined;
    while (!stopped) {
      let reason: string;
      try {
        abort = new AbortController();
        const stream = (await docker.getEvents({
          filters: DOCKER_EVENT_FILTERS,
          ...(since === undefined ? {} : { since }),
          abortSignal: abort.signal,
        } as Docker.GetEventsOptions)) as NodeJS.ReadableStream;
        current = stream;
        if (healthy === false)
          logger.info({ event: "docker.events.resumed", docker: where }, "Docker events resumed");
        healthy = true;
        backoff = minBackoff;
        reason = await follow(stream);
      } catch (error) {
        reason = describeError(error);
      }
      current = undefined;
      if (stopped) break;
      if (healthy !== false) {
        logger.warn(
          { event: "docker.events.lost", docker: where, err: reason },
          `Docker events of ${where} unavailable (${reason}); reconnecting with backoff up to ${maxBackoff} ms`,
        );
        // Replay from the second the stream was lost: nothing that happened in the gap is missed.
        since = Math.floor(Date.now() / 1000) - 1;
      }
      healthy = false;
      await pause.sleep(backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  };
  void run();

  return {
    stop() {
      stopped = true;
      abort.abort();
      (current as { destroy?: () => void } | undefined)?.destroy?.();
      pause.wake();
    },
  };
}
