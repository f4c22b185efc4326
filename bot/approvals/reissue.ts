import type { SlackSender } from "../slack-sender.ts";
import { approvalMessage } from "../views/approval-view.ts";
import type { ApprovalRequest } from "./approval-rules.ts";
import type { ApprovalStore } from "./approval-store.ts";

/**
 * Asks again with a fresh plan after the cluster changed: a new request (new id, new expiry)
 * with the old one's kind, requester and channel, posted with its own buttons.
 */
export async function reissueRequest(
  deps: { readonly approvals: ApprovalStore; readonly sender: SlackSender },
  request: ApprovalRequest,
  changes: Pick<ApprovalRequest, "reason" | "planText" | "planHash"> &
    Partial<Pick<ApprovalRequest, "params">>,
  expiryMinutes: number,
): Promise<ApprovalRequest> {
  const now = Date.now();
  const fresh = await deps.approvals.create({
    ...request,
    ...changes,
    createdAt: now,
    expiresAt: now + expiryMinutes * 60_000,
  });
  const ts = await deps.sender.post(request.channel, approvalMessage(fresh));
  await deps.approvals.setMessage(fresh.id, ts);
  return fresh;
}
