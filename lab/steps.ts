import { errorMessage, HarborHaError, isHarborHaError } from "../support/errors.ts";
import type { Logger } from "../support/logger.ts";

export type StepStatus = "done" | "unchanged" | "failed";

/** One line of `lab up` / `lab down` progress. */
export interface StepEvent {
  readonly step: string;
  readonly status: StepStatus;
  readonly detail: string;
  readonly durationMs: number;
}

/** What a step reports when it returns: whether it changed anything, and a sentence saying what. */
export interface StepResult {
  readonly changed: boolean;
  readonly detail: string;
}

export const changed = (detail: string): StepResult => ({ changed: true, detail });
export const unchanged = (detail: string): StepResult => ({ changed: false, detail });

/**
 * Times steps, tells `onStep` and the log about each, and keeps the events for the summary.
 * A failing step is reported as failed and rethrown as LAB_STEP_FAILED naming it.
 */
export class StepRunner {
  readonly events: StepEvent[] = [];
  readonly #logger: Logger;
  readonly #onStep: ((event: StepEvent) => void) | undefined;

  constructor(logger: Logger, onStep?: (event: StepEvent) => void) {
    this.#logger = logger;
    this.#onStep = onStep;
  }

  async run(step: string, body: () => Promise<StepResult>): Promise<StepResult> {
    const started = performance.now();
    try {
      const result = await body();
      this.#emit({
        step,
        status: result.changed ? "done" : "unchanged",
        detail: result.detail,
        durationMs: performance.now() - started,
      });
      return result;
    } catch (error) {
      this.#emit({
        step,
        status: "failed",
        detail: errorMessage(error),
        durationMs: performance.now() - started,
      });
      throw new HarborHaError("LAB_STEP_FAILED", `step ${step}: ${errorMessage(error)}`, {
        action: `lab ${step}`,
        hint: isHarborHaError(error)
          ? error.hint
          : "fix the cause and run the command again; it resumes where it stopped",
        context: { step },
        cause: error,
      });
    }
  }

  #emit(event: StepEvent): void {
    this.events.push(event);
    const fields = { step: event.step, status: event.status, durationMs: Math.round(event.durationMs) };
    // A failed step is also thrown to the caller, who reports it; here it is only a warning.
    if (event.status === "failed") this.#logger.warn(fields, event.detail);
    else this.#logger.info(fields, event.detail);
    this.#onStep?.(event);
  }
}
