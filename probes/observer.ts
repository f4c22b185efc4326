import type { Logger } from "../support/logger.ts";
import { BackgroundProbe } from "./background-probe.ts";
import type { NodeProbes } from "./node-probes.ts";
import type { NodeObservation, ProbeReading } from "./observation.ts";
import { describeError, type ProbeName } from "./reading.ts";
import { delayBeforeNextRound, planRound, type RoundPlan } from "./round-plan.ts";
import { WakeableSleep } from "./wakeable-sleep.ts";

export interface ObserverOptions {
  readonly site: string;
  readonly node: string;
  readonly probes: NodeProbes;
  /** site.policy.probeIntervalMs: from one round's start to the next's. */
  readonly intervalMs: number;
  /** How often the slow probes (harbor, storage) start a reading. */
  readonly slowIntervalMs: number;
  /** Each observation, in order (publish it, count it). Must not throw; a throw is logged. */
  readonly onObservation: (observation: NodeObservation) => void;
  /** Each fresh reading of a probe (a slow probe's reading once, not in every round it is carried). */
  readonly onReading?: (probe: ProbeName, reading: ProbeReading<object>) => void;
  readonly logger: Logger;
}

export interface RunningObserver {
  /** An extra round as soon as the current one ends (a Docker event); details are coalesced. */
  observeNow(detail: string): void;
  /** Ends the loop after its current round and closes the probes' connections. */
  stop(): Promise<void>;
}

/** The slow probes run at most this often, and never more often than the rounds. */
export function slowProbeIntervalMs(intervalMs: number): number {
  return Math.max(intervalMs, 2_000);
}

/**
 * The agent's observation loop: rounds of every fast probe (postgres, vip, keepalived, redis,
 * docker) every intervalMs, never overlapping, plus an immediate round after a Docker event. Each
 * round becomes one NodeObservation with a seq that grows by one. The loop never dies: a probe
 * cannot throw (readings carry failures), and anything unexpected is logged and the loop goes on.
 */
export function startObserver(options: ObserverOptions): RunningObserver {
  const { probes, logger, intervalMs } = options;
  const pause = new WakeableSleep();
  const pendingEvents: string[] = [];
  let stopping = false;
  let seq = 0;

  const fresh = (probe: ProbeName) => (reading: ProbeReading<object>) => {
    try {
      options.onReading?.(probe, reading);
    } catch (error) {
      logger.error(
        { event: "observer.sink_failed", err: describeError(error) },
        "recording a reading failed",
      );
    }
  };
  const timed = <T extends object>(probe: ProbeName, read: () => Promise<ProbeReading<T>>) =>
    read().then((reading) => {
      fresh(probe)(reading);
      return reading;
    });
  const harbor = new BackgroundProbe(() => probes.harbor(), options.slowIntervalMs, fresh("harbor"));
  const storage = new BackgroundProbe(() => probes.storage(), options.slowIntervalMs, fresh("storage"));

  const round = async (plan: RoundPlan): Promise<NodeObservation> => {
    const observedAt = Date.now();
    const probeRound = { afterDockerEvent: plan.afterDockerEvent };
    const slow = Promise.all([
      harbor.refresh(observedAt, plan.slowProbes !== "when-due"),
      storage.refresh(observedAt, plan.slowProbes !== "when-due"),
    ]);
    const [postgres, vip, keepalived, redis, docker] = await Promise.all([
      timed("postgres", () => probes.postgres()),
      timed("vip", () => probes.vip()),
      timed("keepalived", () => probes.keepalived(probeRound)),
      timed("redis", () => probes.redis()),
      timed("docker", () => probes.docker(probeRound)),
    ]);
    if (plan.slowProbes === "await") await slow;
    seq += 1;
    return {
      site: options.site,
      node: options.node,
      seq,
      agentPid: process.pid,
      observedAt,
      trigger: plan.trigger,
      ...(plan.triggerDetail === undefined ? {} : { triggerDetail: plan.triggerDetail }),
      postgres,
      vip,
      keepalived,
      harbor: harbor.latest,
      redis,
      storage: storage.latest,
      docker,
    };
  };

  const loop = async () => {
    let first = true;
    while (!stopping) {
      const startedAt = performance.now();
      try {
        const observation = await round(planRound(pendingEvents.splice(0), first));
        first = false;
        options.onObservation(observation);
      } catch (error) {
        logger.error(
          { event: "observer.round_failed", err: describeError(error) },
          "observation round failed",
        );
      }
      if (pendingEvents.length === 0 && !stopping) {
        await pause.sleep(delayBeforeNextRound(intervalMs, startedAt, performance.now()));
      }
    }
  };
  const running = loop();
  logger.info(
    { event: "observer.started", intervalMs, slowIntervalMs: options.slowIntervalMs },
    `observing ${options.node} every ${intervalMs} ms`,
  );

  return {
    observeNow(detail) {
      pendingEvents.push(detail);
      pause.wake();
    },
    async stop() {
      stopping = true;
      pause.wake();
      await running;
      await Promise.all([harbor.settled(), storage.settled()]);
      await probes.close();
      logger.info({ event: "observer.stopped", observations: seq }, "observation loop stopped");
    },
  };
}
