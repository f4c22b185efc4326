/**
 * Who may decide an approval request, and when. Pure: the request, the click and the clock in,
 * a verdict out. Each refusal has its own reason, the sentence the clicker sees, and the audit
 * entry's outcome.
 */

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired" | "superseded";

export interface ApprovalRequest {
  readonly id: string;
  /** What the approval runs when approved: "deploy", later "failover", "rejoin", ... */
  readonly kind: string;
  /** Who asked: a Slack user ID, "cli:USER", or "controller" (an automatic remediation). */
  readonly requester: string;
  readonly reason: string;
  /** One sentence on what could go wrong. */
  readonly risk: string;
  /** The plan, rendered for people. */
  readonly planText: string;
  /** A hash of the plan and of the cluster state it was made from. */
  readonly planHash: string;
  /** The parameters the plan is run with (e.g. the Harbor version), as strings. */
  readonly params: Readonly<Record<string, string>>;
  readonly channel: string;
  /** The message that carries the buttons, once posted. */
  readonly messageTs: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: ApprovalStatus;
  /** The last click that decided it (for approved: the approval that completed it). */
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  /** The approvers who approved so far, in order; never the requester. */
  readonly approvals: readonly string[];
  /** How many distinct approvers it takes: 2 with the two-person rule, else 1. */
  readonly approvalsNeeded: number;
}

export type Decision = "approve" | "reject";

export type Refusal =
  | { readonly reason: "not-approver"; readonly message: string }
  | { readonly reason: "own-request"; readonly message: string }
  | { readonly reason: "already-approved"; readonly message: string }
  | { readonly reason: "expired"; readonly message: string }
  | { readonly reason: "decided"; readonly message: string };

export type Verdict = { readonly ok: true } | ({ readonly ok: false } & Refusal);

export interface ClickContext {
  readonly request: ApprovalRequest;
  readonly user: string;
  readonly decision: Decision;
  /** Whether the clicker is one of the site's approvers (user groups already expanded). */
  readonly isApprover: boolean;
  readonly now: number;
}

const time = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{time}|${new Date(ms).toISOString()}>`;

/**
 * Whether this click may decide the request. Nobody approves their own request: approving needs
 * an approver who is not the requester, and each approver counts once (the two-person rule asks
 * for two of them, so a request by a person involves three). The requester may always cancel
 * their own request; anyone else needs to be an approver to cancel.
 */
export function judgeClick(context: ClickContext): Verdict {
  const { request, user, decision, now } = context;
  if (request.status !== "pending") {
    const who = request.decidedBy ? `<@${request.decidedBy}>` : "nobody";
    const when = request.decidedAt ? ` at ${time(request.decidedAt)}` : "";
    return {
      ok: false,
      reason: "decided",
      message: `This request is already ${request.status} (by ${who}${when}).`,
    };
  }
  if (now >= request.expiresAt) {
    return {
      ok: false,
      reason: "expired",
      message: `This request expired at ${time(request.expiresAt)}; ask again with \`/harbor ${request.kind}\`.`,
    };
  }
  const own = user === request.requester;
  if (decision === "reject") {
    return own || context.isApprover ? { ok: true } : notApprover();
  }
  if (!context.isApprover) return notApprover();
  if (own) {
    return {
      ok: false,
      reason: "own-request",
      message: `You asked for this, so you cannot approve it: ${stillNeeded(request)} other than you must. You can still Cancel it.`,
    };
  }
  if (request.approvals.includes(user)) {
    return {
      ok: false,
      reason: "already-approved",
      message: `You already approved this request; the two-person rule needs ${stillNeeded(request)} besides you.`,
    };
  }
  return { ok: true };
}

function notApprover(): Verdict {
  return {
    ok: false,
    reason: "not-approver",
    message: "You are not one of this site's approvers (slack.approvers in the site config).",
  };
}

/** "an approver", "another approver", "two approvers": who is still missing. */
export function stillNeeded(request: Pick<ApprovalRequest, "approvals" | "approvalsNeeded">): string {
  const missing = Math.max(1, request.approvalsNeeded - request.approvals.length);
  if (missing >= 2) return `${missing} approvers`;
  return request.approvals.length > 0 ? "another approver" : "an approver";
}
