import { createHmac, timingSafeEqual } from "node:crypto";
import type { SiteKey } from "../../config/site-key.ts";
import { canonicalJson } from "../../jobs/signing/canonical-json.ts";
import type { ApprovalRequest } from "./approval-rules.ts";

/**
 * An approval request's seal: an HMAC with the site key over what was asked (kind, requester,
 * plan hash, the parameters the plan runs with) and, once approved, who approved it and when.
 * The request lives in Redis; the seal is what makes "approved" a person's decision and not a
 * field anyone with Redis access could set. Written when the request is made and again when it
 * is approved; checked before an approved plan runs.
 */
export function approvalSeal(key: SiteKey, request: ApprovalRequest): string {
  const approved = request.status === "approved";
  const sealed = {
    id: request.id,
    kind: request.kind,
    requester: request.requester,
    planHash: request.planHash,
    params: request.params,
    channel: request.channel,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    // The two-person rule is part of what was asked: lowering it in Redis breaks the seal.
    approvalsNeeded: request.approvalsNeeded,
    ...(approved ? { status: "approved", decidedBy: request.decidedBy, decidedAt: request.decidedAt } : {}),
  };
  return createHmac("sha256", key.bytes)
    .update(`harbor-ha-approval-v2${canonicalJson(sealed)}`)
    .digest("hex");
}

export function sealHolds(key: SiteKey, request: ApprovalRequest, seal: string | undefined): boolean {
  if (!seal || !/^[0-9a-f]{64}$/.test(seal)) return false;
  const expected = Buffer.from(approvalSeal(key, request), "hex");
  return timingSafeEqual(expected, Buffer.from(seal, "hex"));
}
