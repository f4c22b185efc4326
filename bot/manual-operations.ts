import type { SiteConfig } from "../config/schema.ts";
import type { Controller } from "../jobs/controller/controller.ts";
import {
  failoverPlan,
  type ManualPlan,
  rejoinPlan,
  switchoverPlan,
} from "../jobs/controller/manual-plans.ts";
import type { SnapshotStore } from "../jobs/controller/snapshot-store.ts";
import { planLines } from "./remediation-approval.ts";

export type ManualVerb = "switchover" | "failover" | "rejoin";

export interface ManualRequest {
  readonly verb: ManualVerb;
  readonly node?: string;
  readonly reclone?: boolean;
  readonly dryRun: boolean;
  /** A Slack user ID, or "cli:USER". */
  readonly actor: string;
}

export interface ManualOutcome {
  readonly ok: boolean;
  /** What happened, in a sentence or two, with the plan. */
  readonly text: string;
}

/** The job an operator's command becomes when it comes from a terminal. */
export const MANUAL_JOB = "manual.run";

/**
 * `switchover`, `failover` and `rejoin`, from Slack or the CLI: the plan from the snapshot as it
 * is now, shown (dry run), asked (failover, re-clone, switchover unless
 * slack.approval.switchover is false), or run by the controller. The actor is the approval's
 * requester: they cannot approve it themselves.
 */
export async function runManualOperation(
  request: ManualRequest,
  deps: { readonly site: SiteConfig; readonly store: SnapshotStore; readonly controller: Controller },
): Promise<ManualOutcome> {
  const snapshot = await deps.store.refresh();
  let plan: ManualPlan;
  switch (request.verb) {
    case "switchover":
      plan = switchoverPlan(snapshot, request.node, {
        needsApproval: deps.site.slack.approval.switchover,
      });
      break;
    case "failover": {
      const last = await deps.controller.lastPrimary();
      plan = failoverPlan(snapshot, last.node, last.lsn, deps.site.policy, request.node);
      break;
    }
    case "rejoin":
      plan = request.node
        ? rejoinPlan(snapshot, request.node, request.reclone ?? false)
        : { ok: false, reason: "rejoin needs a node" };
      break;
  }
  if (!plan.ok) return { ok: false, text: plan.reason };
  const lines = planLines(plan.decision);
  if (request.dryRun) return { ok: true, text: `dry run, nothing done: ${plan.decision.reason}\n${lines}` };
  const result = await deps.controller.runManual(plan.decision, request.actor);
  const said = {
    ran: `done: ${plan.decision.reason}`,
    failed: `FAILED part way: ${plan.decision.reason}; the incident thread in the alert channel says where`,
    asked: `asked for approval in the alert channel: ${plan.decision.reason}`,
  }[result];
  return { ok: result !== "failed", text: `${said}\n${lines}` };
}
