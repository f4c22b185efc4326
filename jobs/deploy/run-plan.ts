import { HarborHaError } from "../../support/errors.ts";
import type { DeployPlan, PlannedStep } from "./plan.ts";
import type { StepMode, StepOutcome } from "./step-contract.ts";

/** Progress of a deploy, as the CLI prints it and the Slack thread will post it. */
export type DeployEvent =
  | { readonly type: "plan"; readonly plan: DeployPlan; readonly dryRun: boolean }
  | { readonly type: "step.started"; readonly index: number; readonly step: PlannedStep }
  | {
      readonly type: "step.finished";
      readonly index: number;
      readonly step: PlannedStep;
      readonly outcome: StepOutcome;
      readonly durationMs: number;
    }
  | { readonly type: "deploy.finished"; readonly summary: DeploySummary };

export interface DeploySummary {
  readonly dryRun: boolean;
  /** Steps that changed something (or, in a dry run, would). */
  readonly changes: number;
  readonly unchanged: number;
  readonly failed: { readonly step: PlannedStep; readonly outcome: StepOutcome } | undefined;
  /** Steps not run because an earlier one failed. */
  readonly skipped: number;
  readonly durationMs: number;
}

/** Runs one step where it belongs (SSH, the node's agent, the control plane) in the given mode. */
export type StepExecutor = (step: PlannedStep, mode: StepMode) => Promise<StepOutcome>;

/**
 * Executes a plan in order. A dry run checks every step and changes nothing; a real run applies
 * each step and stops at the first failure: nothing after it runs, and a re-run resumes from what
 * the nodes then hold (every step checks before it acts). A step that throws (a dead queue, say)
 * is a failed step like any other.
 */
export async function runPlan(
  plan: DeployPlan,
  execute: StepExecutor,
  options: { dryRun: boolean; onEvent?: (event: DeployEvent) => void },
): Promise<DeploySummary> {
  const emit = options.onEvent ?? (() => {});
  const started = performance.now();
  const mode: StepMode = options.dryRun ? "check" : "apply";
  emit({ type: "plan", plan, dryRun: options.dryRun });
  let changes = 0;
  let unchanged = 0;
  let failed: DeploySummary["failed"];
  for (const [index, step] of plan.steps.entries()) {
    emit({ type: "step.started", index, step });
    const stepStarted = performance.now();
    const outcome = await execute(step, mode).catch((error: unknown) => thrownOutcome(error));
    emit({ type: "step.finished", index, step, outcome, durationMs: performance.now() - stepStarted });
    if (outcome.status === "failed") {
      failed = { step, outcome };
      break;
    }
    if (outcome.status === "unchanged") unchanged += 1;
    else changes += 1;
  }
  const summary: DeploySummary = {
    dryRun: options.dryRun,
    changes,
    unchanged,
    failed,
    skipped: plan.steps.length - changes - unchanged - (failed ? 1 : 0),
    durationMs: performance.now() - started,
  };
  emit({ type: "deploy.finished", summary });
  return summary;
}

function thrownOutcome(error: unknown): StepOutcome {
  if (error instanceof HarborHaError) {
    return { status: "failed", detail: error.message, hint: error.hint };
  }
  return {
    status: "failed",
    detail: error instanceof Error ? error.message : String(error),
    hint: "an unexpected error; the control plane's log has the stack",
  };
}
