import type { ActionResult, ActionTiming, FailureReason } from "../../remediation/contract.ts";

/**
 * An expected failure inside an action: thrown where it is found, turned into a result with its
 * reason at the action's edge (fenced-executor.ts), with the facts learnt before it.
 */
export class ActionFailure extends Error {
  override readonly name = "ActionFailure";
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly hint: string,
    readonly outputTail?: string,
    readonly facts: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** One run of an action: times its steps and builds its result. */
export class ActionRun {
  private readonly started = performance.now();
  private readonly steps: ActionTiming[] = [];

  constructor(readonly node: string) {}

  /** Runs one step and records how long it took (a failed step too). */
  async step<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.steps.push({ step: name, ms: Math.round(performance.now() - started) });
    }
  }

  get timings(): readonly ActionTiming[] {
    return [...this.steps];
  }

  private common(detail: string) {
    return {
      node: this.node,
      detail,
      timings: this.timings,
      durationMs: Math.round(performance.now() - this.started),
    };
  }

  /** The postcondition holds because this run acted. */
  done<F extends object>(detail: string, facts: F): ActionResult<F> {
    return { ...this.common(detail), ok: true, outcome: "done", ...facts };
  }

  /** The postcondition held before: nothing changed. */
  already<F extends object>(detail: string, facts: F): ActionResult<F> {
    return { ...this.common(detail), ok: true, outcome: "already", ...facts };
  }

  failed<F extends object>(failure: ActionFailure, facts: Partial<F> = {}): ActionResult<F> {
    return {
      ...this.common(failure.message),
      ok: false,
      outcome: "failed",
      reason: failure.reason,
      hint: failure.hint,
      ...(failure.outputTail ? { outputTail: failure.outputTail } : {}),
      ...(failure.facts as Partial<F>),
      ...facts,
    };
  }
}
