import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ApprovalRequest, type ClickContext, judgeClick } from "../../bot/approvals/approval-rules.ts";

const NOW = Date.parse("2026-11-30T10:00:00Z");

function pendingDeploy(changes: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: "req1",
    kind: "deploy",
    requester: "U0ALICE",
    reason: "`/harbor deploy`",
    risk: "restarts services one node at a time",
    planText: "~ 1. node01 host.docker: would change",
    planHash: "abc",
    params: {},
    channel: "C0OPS",
    messageTs: "1.000100",
    createdAt: NOW - 60_000,
    expiresAt: NOW + 14 * 60_000,
    status: "pending",
    decidedBy: null,
    decidedAt: null,
    ...changes,
  };
}

const click = (changes: Partial<ClickContext> = {}): ClickContext => ({
  request: pendingDeploy(),
  user: "U0BOB",
  decision: "approve",
  approvers: new Set(["U0ALICE", "U0BOB"]),
  twoPersonRule: false,
  now: NOW,
  ...changes,
});

describe("who may decide an approval request", () => {
  test("an approver other than the requester may approve a pending request", () => {
    assert.deepEqual(judgeClick(click()), { ok: true });
  });

  test("without the two-person rule the requester, an approver, may approve their own request", () => {
    assert.deepEqual(judgeClick(click({ user: "U0ALICE" })), { ok: true });
  });

  test("with the two-person rule the requester cannot approve alone", () => {
    const verdict = judgeClick(click({ user: "U0ALICE", twoPersonRule: true }));
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.reason, "own-request");
    assert.match(!verdict.ok ? verdict.message : "", /another approver must approve/);
  });

  test("with the two-person rule another approver still may", () => {
    assert.deepEqual(judgeClick(click({ twoPersonRule: true })), { ok: true });
  });

  test("someone who is not an approver is refused, for approve and for cancel", () => {
    for (const decision of ["approve", "reject"] as const) {
      const verdict = judgeClick(click({ user: "U0DAVE", decision }));
      assert.equal(!verdict.ok && verdict.reason, "not-approver", decision);
    }
  });

  test("the requester may cancel their own request even when not an approver", () => {
    const request = pendingDeploy({ requester: "U0DAVE" });
    assert.deepEqual(judgeClick(click({ request, user: "U0DAVE", decision: "reject" })), { ok: true });
    const approving = judgeClick(click({ request, user: "U0DAVE", decision: "approve" }));
    assert.equal(!approving.ok && approving.reason, "not-approver");
  });

  test("an expired request says so, from the moment it expires", () => {
    const request = pendingDeploy({ expiresAt: NOW });
    const verdict = judgeClick(click({ request }));
    assert.equal(!verdict.ok && verdict.reason, "expired");
    assert.match(!verdict.ok ? verdict.message : "", /expired at .*ask again with `\/harbor deploy`/);
    assert.deepEqual(judgeClick(click({ request, now: NOW - 1 })), { ok: true });
  });

  test("a decided request says who decided it, whoever clicks and whatever the clock", () => {
    for (const status of ["approved", "rejected", "superseded"] as const) {
      const request = pendingDeploy({ status, decidedBy: "U0BOB", decidedAt: NOW - 5_000 });
      const verdict = judgeClick(click({ request, user: "U0ALICE", now: NOW + 60 * 60_000 }));
      assert.equal(!verdict.ok && verdict.reason, "decided", status);
      assert.match(!verdict.ok ? verdict.message : "", new RegExp(`already ${status} \\(by <@U0BOB> at`));
    }
  });
});
