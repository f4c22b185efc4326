import type { ApprovalRequest } from "./approval-rules.ts";

/**
 * What the approval mechanism needs from the work it guards (a deploy now; a failover or a
 * re-clone later): whether it can be approved now, its plan made again from the cluster as it is,
 * and how to start it once approved. start() must be safe to call twice for one request.
 */
export interface ApprovalKind {
  /** Why it cannot be approved right now (another deploy runs), or undefined. */
  blocked(request: ApprovalRequest): Promise<string | undefined>;
  replan(request: ApprovalRequest): Promise<{ readonly planHash: string; readonly planText: string }>;
  start(request: ApprovalRequest): Promise<void>;
  /** Asks again with a fresh plan, after the cluster changed; returns the new request. */
  askAgain(request: ApprovalRequest, plan: { planHash: string; planText: string }): Promise<ApprovalRequest>;
  /** What a rejection ends besides the request itself (the incident an operator's request opened). */
  rejected?(request: ApprovalRequest, by: string): Promise<void>;
}
