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
  /** The Slack user who asked. */
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
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
}

export type Decision = "approve" | "reject";

export type Refusal =
  | { readonly reason: "not-approver"; readonly message: string }
  | { readonly reason: "own-request"; readonly message: string }
  | { readonly reason: "expired"; readonly message: string }
  | { readonly reason: "decided"; readonly message: string };

export type Verdict = { readonly ok: true } | ({ readonly ok: false } & Refusal);

export interface ClickContext {
  readonly request: ApprovalRequest;
  readonly user: string;
  readonly decision: Decision;
  /** The user IDs who may approve (user groups already expanded). */
  readonly approvers: ReadonlySet<string>;
  readonly twoPersonRule: boolean;
  readonly now: number;
}

const time = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{time}|${new Date(ms).toISOString()}>`;

/**
 * Whether this click may decide the request. The requester may always cancel their own request;
 * approving needs an approver, and with the two-person rule someone other than the requester.
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
  const cancellingOwn = decision === "reject" && user === request.requester;
  if (!cancellingOwn && !context.approvers.has(user)) {
    return {
      ok: false,
      reason: "not-approver",
      message: "You are not one of this site's approvers (slack.approvers in the site config).",
    };
  }
  if (decision === "approve" && context.twoPersonRule && user === request.requester) {
    return {
      ok: false,
      reason: "own-request",
      message: "The two-person rule is on: another approver must approve your request.",
    };
  }
  return { ok: true };
}
