import type { StepOutcome } from "../../deploy/step-contract.ts";
import { failedOutcome } from "../../deploy/step-contract.ts";

/**
 * A PostgreSQL step that cannot go on, with what the operator should do. Thrown inside the
 * step, turned into a failed outcome at its edge (outcomes cross the queue, errors lose detail).
 */
export class PostgresStepFailure extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly outputTail?: string,
  ) {
    super(message);
    this.name = "PostgresStepFailure";
  }
}

/** The step's outcome; a failure (expected or not) becomes a failed outcome, never a throw. */
export async function asOutcome(node: string, work: () => Promise<StepOutcome>): Promise<StepOutcome> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PostgresStepFailure) {
      return failedOutcome(error.message, error.hint, error.outputTail);
    }
    const message = error instanceof Error ? error.message : String(error);
    return failedOutcome(
      `unexpected error on ${node}: ${message}`,
      `read the agent log of ${node}; is its Docker daemon up?`,
    );
  }
}

/** The last lines of a command's output, for a failure's report. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
