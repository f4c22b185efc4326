import { type ApprovalRequest, stillNeeded } from "../approvals/approval-rules.ts";
import { type Block, clip, context, header, LIMITS, section } from "./block-kit.ts";

export const APPROVE_ACTION = "approval.approve";
export const REJECT_ACTION = "approval.reject";

const slackTime = (ms: number) =>
  `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${new Date(ms).toISOString()}>`;

const OUTCOME: Readonly<Record<ApprovalRequest["status"], string>> = {
  pending: ":hourglass_flowing_sand: Waiting for an approver",
  approved: ":white_check_mark: Approved",
  rejected: ":no_entry_sign: Cancelled",
  expired: ":alarm_clock: Expired",
  superseded: ":arrows_counterclockwise: Superseded: the cluster changed, a new plan was posted",
};

/** Who asked, as Slack shows it: a user is mentioned; the CLI or the controller is named. */
export function requesterText(requester: string): string {
  if (/^[UW][A-Z0-9]+$/.test(requester)) return `<@${requester}>`;
  return requester === "controller" ? "the controller (automatic)" : `\`${requester}\``;
}

const mentions = (users: readonly string[]) => users.map((user) => `<@${user}>`).join(" and ");

/**
 * An approval request as a message: what will be done (the plan), who asked and why, the risk,
 * and Approve / Cancel while it is pending; once decided, the outcome (who, when) replaces the
 * buttons. Pure.
 */
export function approvalMessage(
  request: ApprovalRequest,
  progress?: string,
): { text: string; blocks: Block[] } {
  const title = `${request.kind}: approval ${request.status === "pending" ? "needed" : request.status}`;
  const blocks: Block[] = [
    header(title),
    section(
      `*Requested by* ${requesterText(request.requester)} · ${request.reason}\n*Risk:* ${request.risk}`,
    ),
    section(`\`\`\`${clip(request.planText, LIMITS.sectionText - 10)}\`\`\``),
  ];
  if (request.status === "pending") {
    blocks.push({
      type: "actions",
      block_id: `approval:${request.id}`,
      elements: [
        {
          type: "button",
          action_id: APPROVE_ACTION,
          text: { type: "plain_text", text: "Approve" },
          style: "primary",
          value: request.id,
        },
        {
          type: "button",
          action_id: REJECT_ACTION,
          text: { type: "plain_text", text: "Cancel" },
          style: "danger",
          value: request.id,
        },
      ],
    });
    if (request.approvals.length > 0) {
      blocks.push(
        section(`Approved so far by ${mentions(request.approvals)}; waiting for ${stillNeeded(request)}.`),
      );
    }
    const rule =
      request.approvalsNeeded > 1
        ? `needs ${request.approvalsNeeded} approvers other than the requester`
        : "needs an approver other than the requester";
    blocks.push(
      context(
        `request ${request.id} · ${rule} · expires ${slackTime(request.expiresAt)} · plan ${request.planHash.slice(0, 12)}`,
      ),
    );
  } else {
    const deciders = request.status === "approved" && request.approvals.length > 0 ? request.approvals : [];
    const by =
      deciders.length > 0
        ? ` by ${mentions(deciders)}`
        : request.decidedBy
          ? ` by <@${request.decidedBy}>`
          : "";
    const when = request.decidedAt ? ` at ${slackTime(request.decidedAt)}` : "";
    blocks.push(section(`${OUTCOME[request.status]}${by}${when}`));
    if (progress) blocks.push(section(progress));
    blocks.push(context(`request ${request.id} · plan ${request.planHash.slice(0, 12)}`));
  }
  return { text: `${title} (requested by ${requesterText(request.requester)})`, blocks };
}
