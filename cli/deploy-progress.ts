import type { DeployEvent } from "../jobs/deploy/run-plan.ts";
import type { StepStatus } from "../jobs/deploy/step-contract.ts";
import { formatMs } from "./output.ts";

const MARKS: Record<StepStatus, string> = { unchanged: "·", "would-change": "~", changed: "✓", failed: "✗" };

/**
 * The lines a terminal shows for one deploy event (the Slack thread will render the same events).
 * Pure: an event in, lines out.
 */
export function progressLines(event: DeployEvent): string[] {
  switch (event.type) {
    case "plan": {
      const { plan, dryRun } = event;
      return [
        `${dryRun ? "dry run: " : ""}deploy of Harbor ${plan.harborVersion}: ${plan.steps.length} steps; primary on ${plan.primaryNode} (${plan.primaryReason})`,
      ];
    }
    case "step.started": {
      return [
        `  [${event.index + 1}] ${event.step.node ?? "site"} ${event.step.id}: ${event.step.title} ...`,
      ];
    }
    case "step.finished": {
      const { outcome, step } = event;
      const lines = [
        `${MARKS[outcome.status]} [${event.index + 1}] ${step.node ?? "site"} ${step.id}: ${outcome.status} — ${outcome.detail} (${formatMs(event.durationMs)})`,
        ...(outcome.output ?? []).map((line) => `      ${line}`),
      ];
      if (outcome.status === "failed") {
        if (outcome.outputTail)
          lines.push("      output:", ...outcome.outputTail.split("\n").map((l) => `        ${l}`));
        if (outcome.hint) lines.push(`      hint: ${outcome.hint}`);
      }
      return lines;
    }
    case "deploy.finished": {
      const { summary } = event;
      const took = formatMs(summary.durationMs);
      if (summary.failed) {
        const where = summary.failed.step.node ?? "site";
        const made = summary.dryRun ? "would be made" : "made";
        return [
          `deploy ${summary.dryRun ? "dry run " : ""}FAILED at ${summary.failed.step.id} on ${where} after ${took}: ${summary.changes} changes ${made}, ${summary.skipped} steps not run; fix the cause and run deploy again (it resumes from what the nodes hold)`,
        ];
      }
      const verb = summary.dryRun ? "would make" : "made";
      return [
        `deploy ${summary.dryRun ? "dry run " : ""}done in ${took}: ${summary.changes} changes (${verb}), ${summary.unchanged} unchanged`,
      ];
    }
    default: {
      const unknown: never = event;
      return [String(unknown)];
    }
  }
}
