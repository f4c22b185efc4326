import { createHash } from "node:crypto";
import type { DeployPlan } from "../../jobs/deploy/plan.ts";
import type { DeployEvent, DeploySummary } from "../../jobs/deploy/run-plan.ts";
import type { StepStatus } from "../../jobs/deploy/step-contract.ts";

/**
 * What a deploy says in Slack, from the same events the CLI prints. Pure: events in, text out.
 */

const MARK: Readonly<Record<StepStatus, string>> = {
  unchanged: "·",
  "would-change": "~",
  changed: "✓",
  failed: "✗",
};

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export interface DryRun {
  readonly plan: DeployPlan;
  readonly steps: ReadonlyArray<{
    readonly id: string;
    readonly node: string | undefined;
    readonly status: StepStatus;
    readonly detail: string;
  }>;
  readonly summary: DeploySummary;
}

/** Collects a dry run's events into the plan as checked. */
export function dryRunFrom(events: readonly DeployEvent[]): DryRun | undefined {
  let plan: DeployPlan | undefined;
  let summary: DeploySummary | undefined;
  const steps: Array<DryRun["steps"][number]> = [];
  for (const event of events) {
    if (event.type === "plan") plan = event.plan;
    if (event.type === "step.finished") {
      steps.push({
        id: event.step.id,
        node: event.step.node,
        status: event.outcome.status,
        detail: event.outcome.detail,
      });
    }
    if (event.type === "deploy.finished") summary = event.summary;
  }
  return plan && summary ? { plan, steps, summary } : undefined;
}

/** The plan for people: the version, where the primary stays, each step with what it would change. */
export function planText(dryRun: DryRun): string {
  const { plan, summary } = dryRun;
  const lines = [
    `Harbor ${plan.harborVersion}; PostgreSQL primary on ${plan.primaryNode} (${plan.primaryReason})`,
    ...dryRun.steps.map(
      (step, index) => `${MARK[step.status]} ${index + 1}. ${step.node ?? "site"} ${step.id}: ${step.detail}`,
    ),
  ];
  lines.push(
    summary.failed
      ? `the check of ${summary.failed.step.id} failed: ${summary.failed.outcome.detail}`
      : `${summary.changes} of ${plan.steps.length} steps would change something`,
  );
  return lines.join("\n");
}

/**
 * A hash of the plan and of the state it was made from (what each step found, where the primary
 * and the VIP are): if any of it differs when someone approves, the plan is stale.
 */
export function planHash(
  dryRun: DryRun,
  state: { readonly primaries: readonly string[]; readonly vipHolders: readonly string[] },
): string {
  const essence = {
    version: dryRun.plan.harborVersion,
    primary: dryRun.plan.primaryNode,
    steps: dryRun.steps.map((step) => [step.id, step.node ?? "", step.status]),
    primaries: [...state.primaries].sort(),
    vipHolders: [...state.vipHolders].sort(),
  };
  return createHash("sha256").update(JSON.stringify(essence)).digest("hex");
}

/** One step of a running deploy, for the thread. */
export function stepLine(event: Extract<DeployEvent, { type: "step.finished" }>, total: number): string {
  const { step, outcome } = event;
  const head = `${MARK[outcome.status]} ${event.index + 1}/${total} *${step.node ?? "site"}* \`${step.id}\`: ${outcome.status} — ${outcome.detail} (${seconds(event.durationMs)})`;
  if (outcome.status !== "failed") return head;
  const tail = outcome.outputTail ? `\n\`\`\`${outcome.outputTail.slice(-1500)}\`\`\`` : "";
  return `${head}${tail}${outcome.hint ? `\n*hint:* ${outcome.hint}` : ""}`;
}

/** The running deploy's state, for the top message. */
export function progressText(
  done: number,
  total: number,
  current?: { id: string; node: string | undefined },
): string {
  const now = current ? ` · now: \`${current.id}\` on ${current.node ?? "site"}` : "";
  return `:gear: Deploying: ${done} of ${total} steps done${now}`;
}

/** The last word on a deploy, for the thread and the top message. */
export function finishedText(summary: DeploySummary, messagesPosted?: number): string {
  const posted = messagesPosted === undefined ? "" : ` · ${messagesPosted} messages`;
  if (summary.failed) {
    const where = summary.failed.step.node ?? "site";
    return `:x: Deploy FAILED at \`${summary.failed.step.id}\` on ${where} after ${seconds(summary.durationMs)}: ${summary.changes} changes made, ${summary.skipped} steps not run. Fix the cause and deploy again: it resumes from what the nodes hold${posted}`;
  }
  return `:white_check_mark: Deploy done in ${seconds(summary.durationMs)}: ${summary.changes} changes, ${summary.unchanged} unchanged${posted}`;
}
