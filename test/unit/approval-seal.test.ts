import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ApprovalRequest } from "../../bot/approvals/approval-rules.ts";
import { approvalSeal, sealHolds } from "../../bot/approvals/approval-seal.ts";
import { siteKeyForTest } from "../support/job-fixtures.ts";

const key = siteKeyForTest();
const pending: ApprovalRequest = {
  id: "1a2b3c4d5e6f",
  kind: "remediation",
  requester: "U0LABOPS1",
  reason: "manual failover",
  risk: "may lose writes",
  planText: "1. promote node02",
  planHash: "ab".repeat(32),
  params: { decision: '{"scenario":"manual failover"}' },
  channel: "C0LABALERTS",
  messageTs: null,
  createdAt: 1,
  expiresAt: 2,
  status: "pending",
  decidedBy: null,
  decidedAt: null,
  approvals: [],
  approvalsNeeded: 2,
};
const approved: ApprovalRequest = { ...pending, status: "approved", decidedBy: "U0LABOPS2", decidedAt: 3 };

describe("approval seals", () => {
  it("holds for the request it was made for, pending or approved", () => {
    assert.equal(sealHolds(key, pending, approvalSeal(key, pending)), true);
    assert.equal(sealHolds(key, approved, approvalSeal(key, approved)), true);
  });

  it("does not hold when Redis says approved but no person's approval was sealed", () => {
    assert.equal(sealHolds(key, approved, approvalSeal(key, pending)), false);
    assert.equal(sealHolds(key, approved, undefined), false);
    assert.equal(sealHolds(key, approved, "not hex"), false);
  });

  it("does not hold after the plan, its parameters, the approver or the approvals needed were edited, or under another key", () => {
    const seal = approvalSeal(key, approved);
    for (const edited of [
      { ...approved, planHash: "cd".repeat(32) },
      { ...approved, params: { decision: '{"scenario":"rejoin"}' } },
      { ...approved, decidedBy: "U0MALLORY" },
      { ...approved, requester: "controller" },
      { ...approved, approvalsNeeded: 1 },
    ]) {
      assert.equal(sealHolds(key, edited, seal), false);
    }
    assert.equal(sealHolds(siteKeyForTest(), approved, seal), false);
  });
});
