import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ApprovalRequest,
  type ClickContext,
  judgeClick,
  stillNeeded,
} from "../../bot/approvals/approval-rules.ts";

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
    approvals: [],
    approvalsNeeded: 1,
    ...changes,
  };
}

const APPROVERS = new Set(["U0ALICE", "U0BOB", "U0CAROL"]);

const click = (changes: Partial<ClickContext> = {}): ClickContext => {
  const user = changes.user ?? "U0BOB";
  return {
    request: pendingDeploy(),
    user,
    decision: "approve",
    isApprover: APPROVERS.has(user),
    now: NOW,
    ...changes,
  };
};

describe("who may decide an approval request", () => {
  test("an approver other than the requester may approve a pending request", () => {
    assert.deepEqual(judgeClick(click()), { ok: true });
  });

  test("nobody approves their own request, even an approver, with one approval needed or two", () => {
    for (const approvalsNeeded of [1, 2]) {
      const request = pendingDeploy({ approvalsNeeded });
      const verdict = judgeClick(click({ request, user: "U0ALICE" }));
      assert.equal(!verdict.ok && verdict.reason, "own-request", `needing ${approvalsNeeded}`);
      assert.match(!verdict.ok ? verdict.message : "", /You asked for this, so you cannot approve it/);
      assert.match(!verdict.ok ? verdict.message : "", /You can still Cancel it/);
    }
    const two = judgeClick(click({ request: pendingDeploy({ approvalsNeeded: 2 }), user: "U0ALICE" }));
    assert.match(!two.ok ? two.message : "", /2 approvers other than you must/);
  });

  test("a CLI or controller request may be approved by any approver", () => {
    for (const requester of ["cli:root", "controller"]) {
      assert.deepEqual(judgeClick(click({ request: pendingDeploy({ requester }), user: "U0ALICE" })), {
        ok: true,
      });
    }
  });

  test("with the two-person rule an approver counts once; a second, distinct approver may then approve", () => {
    const request = pendingDeploy({ approvalsNeeded: 2, approvals: ["U0BOB"] });
    const again = judgeClick(click({ request, user: "U0BOB" }));
    assert.equal(!again.ok && again.reason, "already-approved");
    assert.match(!again.ok ? again.message : "", /needs another approver besides you/);
    assert.deepEqual(judgeClick(click({ request, user: "U0CAROL" })), { ok: true });
    const own = judgeClick(click({ request, user: "U0ALICE" }));
    assert.equal(!own.ok && own.reason, "own-request", "the requester still may not be the second");
  });

  test("what is still needed is said in words", () => {
    assert.equal(stillNeeded({ approvals: [], approvalsNeeded: 1 }), "an approver");
    assert.equal(stillNeeded({ approvals: [], approvalsNeeded: 2 }), "2 approvers");
    assert.equal(stillNeeded({ approvals: ["U0BOB"], approvalsNeeded: 2 }), "another approver");
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
