import type { App, BlockButtonAction } from "@slack/bolt";
import type { SiteConfig } from "../../config/schema.ts";
import type { AuditLog } from "../../jobs/audit-log.ts";
import { errorMessage, isHarborHaError } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { AccessControl } from "../access/access-control.ts";
import type { ApprovalKind } from "../approvals/approval-kind.ts";
import { type ApprovalRequest, type Decision, judgeClick, stillNeeded } from "../approvals/approval-rules.ts";
import type { ApprovalStore } from "../approvals/approval-store.ts";
import { type RequestDedupe, UNREACHABLE_REPLY } from "../request-dedupe.ts";
import type { SlackSender } from "../slack-sender.ts";
import { APPROVE_ACTION, approvalMessage, REJECT_ACTION } from "../views/approval-view.ts";

export interface ApprovalClickDeps {
  readonly site: SiteConfig;
  readonly approvals: ApprovalStore;
  readonly access: AccessControl;
  readonly kinds: Readonly<Record<string, ApprovalKind>>;
  readonly sender: SlackSender;
  readonly audit: AuditLog;
  readonly dedupe: RequestDedupe;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Approve and Cancel on any approval request. The click is acked at once; the rules say whether
 * this user may decide now; the decision is one atomic step in Redis, so a double click, two
 * approvers at once, a Slack retry or a restarted bot never start the work twice. Before an
 * approval takes effect the plan is made again: if the cluster changed, it is asked again.
 */
export function registerApprovalClicks(app: App, deps: ApprovalClickDeps): void {
  for (const [actionId, decision] of [
    [APPROVE_ACTION, "approve"],
    [REJECT_ACTION, "reject"],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const user = body.user.id;
      const log = deps.logger.child({ user, request: action.value, decision });
      const tell = (text: string) =>
        respond({ response_type: "ephemeral", replace_original: false, text }).catch((error: unknown) =>
          log.warn({ event: "respond.failed", err: errorMessage(error) }, "could not answer the click"),
        );
      try {
        if (!(await deps.dedupe.first(`action:${action.action_ts}:${user}`))) {
          log.info({ event: "approval.click.duplicate" }, "a click that was already handled");
          return;
        }
      } catch (error) {
        if (!isHarborHaError(error) || error.code !== "CONTROL_PLANE_UNREACHABLE") throw error;
        log.warn({ event: "approval.click.unreachable", err: error.message }, "click refused: Redis down");
        await tell(UNREACHABLE_REPLY);
        return;
      }
      try {
        await handleClick(deps, user, decision, action.value ?? "", tell, log);
      } catch (error) {
        log.error(
          { event: "approval.click.failed", err: errorMessage(error) },
          "the click could not be handled",
        );
        await tell(`:x: That did not work: ${errorMessage(error)}`);
      }
    });
  }
}

async function handleClick(
  deps: ApprovalClickDeps,
  user: string,
  decision: Decision,
  id: string,
  tell: (text: string) => Promise<unknown>,
  log: Logger,
): Promise<void> {
  const now = deps.now ?? Date.now;
  const request = await deps.approvals.get(id);
  if (!request) {
    await tell("This request is unknown here (it expired long ago, or it belongs to another site).");
    return;
  }
  const audit = (action: string, outcome: string, detail?: string) =>
    deps.audit
      .append({
        actor: user,
        action: `${action} ${request.kind} (request ${id})`,
        outcome,
        where: request.channel,
        ...(detail ? { detail } : {}),
      })
      .catch((error: unknown) =>
        log.warn({ event: "audit.failed", err: errorMessage(error) }, "audit append failed"),
      );
  const verdict = judgeClick({
    request,
    user,
    decision,
    isApprover: await deps.access.holds("approver", user),
    now: now(),
  });
  if (!verdict.ok) {
    log.info({ event: "approval.refused", reason: verdict.reason }, verdict.message);
    await audit(decision, `refused: ${verdict.reason}`);
    if (verdict.reason === "expired" && (await deps.approvals.decide(id, "expired", "", now())).won) {
      await showOutcome(deps, id);
    }
    await tell(verdict.message);
    return;
  }
  const kind = deps.kinds[request.kind];
  if (!kind) throw new Error(`no handler for ${request.kind} requests in this bot`);
  if (decision === "reject") {
    if (await decideAndShow(deps, request, "rejected", user, now(), tell, audit))
      await kind.rejected?.(request, user);
    return;
  }
  const blocked = await kind.blocked(request);
  if (blocked) {
    await audit("approve", "refused: blocked", blocked);
    await tell(`${blocked} Approve again when it is done.`);
    return;
  }
  const fresh = await kind.replan(request);
  if (fresh.planHash !== request.planHash) {
    const superseded = await deps.approvals.decide(id, "superseded", user, now());
    if (!superseded.won) return void (await tellDecided(superseded.current, tell));
    await showOutcome(deps, id);
    const again = await kind.askAgain(request, fresh);
    await audit(
      "approve",
      "superseded: the cluster changed since the plan; asked again",
      `new request ${again.id}`,
    );
    await tell("The cluster changed since this plan was made: a new plan was posted for approval.");
    return;
  }
  const counted = await deps.approvals.approve(id, user, now());
  switch (counted.outcome) {
    case "lost":
      return void (await tellDecided(counted.current, tell));
    case "already":
      // Two clicks of one approver raced past the rules check: the store counted one of them.
      await audit("approve", "refused: already-approved");
      await tell("You already approved this request.");
      return;
    case "recorded": {
      const waiting = { ...request, approvals: counted.approvals };
      await audit("approve", `recorded: ${counted.approvals.length} of ${request.approvalsNeeded}`);
      await showOutcome(deps, id);
      await tell(`Your approval is recorded; the two-person rule waits for ${stillNeeded(waiting)}.`);
      return;
    }
    case "approved":
      await audit("approve", "approved");
      await showOutcome(deps, id);
      await kind.start(request);
  }
}

async function decideAndShow(
  deps: ApprovalClickDeps,
  request: ApprovalRequest,
  status: "rejected",
  user: string,
  at: number,
  tell: (text: string) => Promise<unknown>,
  audit: (action: string, outcome: string, detail?: string) => Promise<unknown>,
): Promise<boolean> {
  const result = await deps.approvals.decide(request.id, status, user, at);
  if (!result.won) {
    await tellDecided(result.current, tell);
    return false;
  }
  await audit("cancel", status);
  await showOutcome(deps, request.id);
  return true;
}

async function tellDecided(current: ApprovalRequest | undefined, tell: (text: string) => Promise<unknown>) {
  const by = current?.decidedBy ? ` by <@${current.decidedBy}>` : "";
  await tell(`This request was already ${current?.status ?? "decided"}${by}.`);
}

/** Replaces the buttons with the outcome. */
async function showOutcome(deps: ApprovalClickDeps, id: string): Promise<void> {
  const request = await deps.approvals.get(id);
  if (!request?.messageTs) return;
  await deps.sender.update(request.channel, request.messageTs, approvalMessage(request));
}
