import { createHash } from "node:crypto";
import type { SiteConfig } from "../config/schema.ts";
import type { AuditLog } from "../jobs/audit-log.ts";
import type { Controller } from "../jobs/controller/controller.ts";
import type { Incident } from "../jobs/controller/incident.ts";
import { failoverPlan, rejoinPlan, switchoverPlan } from "../jobs/controller/manual-plans.ts";
import { type Decision, describeAction } from "../jobs/controller/remediation.ts";
import { JobRefusedError } from "../jobs/signing/job-check.ts";
import type { ApprovalKind } from "./approvals/approval-kind.ts";
import type { ApprovalRequest } from "./approvals/approval-rules.ts";
import type { ApprovalStore } from "./approvals/approval-store.ts";
import { reissueRequest } from "./approvals/reissue.ts";
import type { ControllerQueueSender } from "./controller-queue.ts";
import type { SlackSender } from "./slack-sender.ts";
import { approvalMessage } from "./views/approval-view.ts";

export const REMEDIATION_JOB = "remediation.run";

/** A plan's identity: the same scenario and actions hash the same, whatever the reason's wording. */
export function decisionHash(decision: Decision): string {
  return createHash("sha256")
    .update(JSON.stringify([decision.scenario, decision.actions]))
    .digest("hex");
}

export function planLines(decision: Decision): string {
  return decision.actions.map((action, index) => `${index + 1}. ${describeAction(action)}`).join("\n");
}

/**
 * A remediation that decide() would not run alone (lag over the limit, flapping, paused, a
 * second primary's writes): posted in the incident's thread as an approval request; approved,
 * it is planned again and run by the controller only if the plan is still the same.
 */
export class RemediationApproval implements ApprovalKind {
  constructor(
    private readonly deps: {
      readonly site: SiteConfig;
      readonly controller: Controller;
      readonly approvals: ApprovalStore;
      readonly sender: SlackSender;
      readonly audit: AuditLog;
      readonly queue: ControllerQueueSender;
    },
  ) {}

  /**
   * The controller's question, as an approval request in the incident's thread, in the name of
   * who asked for it (an operator, or "controller" when it is automatic).
   */
  async ask(incident: Incident, decision: Decision, requester: string): Promise<void> {
    const channel = incident.thread?.channel ?? this.deps.site.slack.alertChannel;
    if (decision.actions.length === 0) {
      await this.deps.sender.post(channel, {
        text: `:raised_hand: A person must decide: ${decision.reason}`,
        ...(incident.thread ? { thread_ts: incident.thread.ts } : {}),
      });
      return;
    }
    const now = Date.now();
    const request = await this.deps.approvals.create({
      kind: "remediation",
      requester,
      reason: `${decision.scenario}: ${decision.reason}`,
      risk: "Acting on a guess about a node the controller cannot see, or on a standby that is behind, can lose writes.",
      planText: planLines(decision),
      planHash: decisionHash(decision),
      params: { decision: JSON.stringify(decision), incident: incident.id },
      channel,
      createdAt: now,
      expiresAt: now + this.deps.site.policy.approvalExpiryMinutes * 60_000,
    });
    const ts = await this.deps.sender.post(channel, {
      ...approvalMessage(request),
      ...(incident.thread ? { thread_ts: incident.thread.ts } : {}),
    });
    await this.deps.approvals.setMessage(request.id, ts);
    await this.deps.audit.append({
      actor: requester,
      action: `approval.requested remediation (request ${request.id})`,
      outcome: "pending",
      where: channel,
      detail: decision.reason,
    });
  }

  async blocked(): Promise<string | undefined> {
    if (this.deps.controller.token === undefined) return "This bot is not the active controller.";
    return undefined;
  }

  async replan(request: ApprovalRequest): Promise<{ planHash: string; planText: string }> {
    const decision = await this.planAgain(request);
    return { planHash: decisionHash(decision), planText: planLines(decision) };
  }

  /**
   * The same question asked of the cluster as it is now: an operator's failover or a re-clone is
   * planned again by its own planner, anything else by decide().
   */
  private async planAgain(request: ApprovalRequest): Promise<Decision> {
    const asked = request.params.decision ? (JSON.parse(request.params.decision) as Decision) : undefined;
    const snapshot = this.deps.controller.snapshotNow();
    if (asked?.scenario === "manual failover") {
      const last = await this.deps.controller.lastPrimary();
      const target = asked.actions.find((action) => action.kind === "promote");
      const plan = failoverPlan(
        snapshot,
        last.node,
        last.lsn,
        this.deps.site.policy,
        target && "node" in target ? target.node : undefined,
      );
      if (plan.ok) return plan.decision;
    }
    if (asked?.scenario === "switchover") {
      const target = asked.actions.find((action) => action.kind === "promote");
      const plan = switchoverPlan(snapshot, target && "node" in target ? target.node : undefined, {
        needsApproval: true,
      });
      if (plan.ok) return plan.decision;
    }
    if (asked?.scenario === "rejoin") {
      const rejoin = asked.actions.find((action) => action.kind === "rejoin");
      if (rejoin?.kind === "rejoin") {
        const plan = rejoinPlan(snapshot, rejoin.node, rejoin.allowReclone ?? false);
        if (plan.ok) return plan.decision;
      }
    }
    return this.deps.controller.decideNow();
  }

  async askAgain(
    request: ApprovalRequest,
    plan: { planHash: string; planText: string },
  ): Promise<ApprovalRequest> {
    const decision = await this.planAgain(request);
    return reissueRequest(
      this.deps,
      request,
      {
        reason: `${decision.scenario}: ${decision.reason} (planned again: the cluster changed)`,
        planText: plan.planText,
        planHash: plan.planHash,
        params: { ...request.params, decision: JSON.stringify(decision) },
      },
      this.deps.site.policy.approvalExpiryMinutes,
    );
  }

  async rejected(request: ApprovalRequest, by: string): Promise<void> {
    if (request.params.incident)
      await this.deps.controller.withdraw(request.params.incident, `the request was rejected by <@${by}>`);
  }

  async start(request: ApprovalRequest): Promise<void> {
    await this.deps.queue.enqueue(
      REMEDIATION_JOB,
      { requestId: request.id },
      {
        jobId: `remediation-${request.id}`,
        lifetimeMs: this.deps.site.policy.approvalExpiryMinutes * 60_000,
        attempts: 1,
      },
    );
  }

  /**
   * The controller's worker: runs the approved plan, only if the approval's seal holds (a person
   * approved exactly this request), the stored plan is the one whose hash was approved, and the
   * cluster as this bot sees it now still calls for that plan.
   */
  async run(requestId: string): Promise<void> {
    const sealed = await this.deps.approvals.verified(requestId);
    if (!sealed.ok) throw new JobRefusedError("approval not sealed", sealed.detail);
    const { request } = sealed;
    if (request.status !== "approved" || !request.params.decision) return;
    const decision = JSON.parse(request.params.decision) as Decision;
    if (decisionHash(decision) !== request.planHash) {
      throw new JobRefusedError(
        "approval not sealed",
        `the stored plan of request ${requestId} is not the plan ${request.planHash.slice(0, 12)} that was approved`,
      );
    }
    // The job may run on another bot than the one that was clicked (the first died): the plan is
    // made again from this bot's snapshot now, and a plan that changed is asked again, not run.
    const now = await this.replan(request);
    if (now.planHash !== request.planHash) {
      await this.askAgain(request, now);
      return;
    }
    await this.deps.controller.runApproved(decision, { requester: request.requester });
  }
}
