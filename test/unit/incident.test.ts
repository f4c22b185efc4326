import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { writesLost } from "../../bot/views/incident-view.ts";
import { awaitsApproval, followedBy, type Incident, withTimeline } from "../../jobs/controller/incident.ts";
import type { Decision } from "../../jobs/controller/remediation.ts";

const opened: Incident = {
  id: "abcd1234",
  scenario: "VIP not on the primary",
  nodes: ["node01"],
  state: "remediating",
  reason: "the VIP is on node02, the primary on node01",
  openedAt: 1_000,
  timeline: [{ label: "detected: VIP not on the primary", at: 1_000 }],
  thread: { channel: "C1", ts: "1.0" },
  lossBytes: null,
};

const decision = (scenario: Decision["scenario"], actions: Decision["actions"]): Decision => ({
  scenario,
  actions,
  reason: `${scenario} seen`,
  needsApproval: false,
  nodes: ["node02"],
});

describe("an incident followed by another decision", () => {
  test("a follow-up that promotes names the incident: it is a failover now", () => {
    const next = followedBy(
      opened,
      decision("S4: keepalived down on the VIP holder", [
        { kind: "fence", node: "node01" },
        { kind: "promote", node: "node02" },
      ]),
    );
    assert.equal(next.scenario, "S4: keepalived down on the VIP holder");
    assert.equal(next.reason, "S4: keepalived down on the VIP holder seen");
    assert.deepEqual(next.nodes, ["node01", "node02"]);
    assert.deepEqual(next.timeline, opened.timeline, "the timeline goes on from the first sighting");
    assert.equal(next.thread, opened.thread, "the same thread");
  });

  test("a follow-up that does not promote (the old primary back) keeps the name", () => {
    const failover = { ...opened, scenario: "S1/S3: primary down on the VIP node" as const };
    const next = followedBy(
      failover,
      decision("S2: old primary's node is back", [{ kind: "rejoin", node: "node01", primary: "node02" }]),
    );
    assert.equal(next, failover);
  });
});

describe("an operator's request waiting for its approval", () => {
  const expiryMs = 60_000;
  const asked: Incident = {
    ...withTimeline(
      { ...opened, scenario: "switchover", requestedBy: "U_OPERATOR" },
      "asked for approval",
      5_000,
    ),
    state: "needs-approval",
  };

  test("waits while its approval can still come, counted from when it was asked", () => {
    assert.equal(awaitsApproval(asked, 5_000 + expiryMs - 1, expiryMs), "waiting");
  });

  test("has expired once its approval could no longer come", () => {
    assert.equal(awaitsApproval(asked, 5_000 + expiryMs, expiryMs), "expired");
  });

  test("an incident the controller opened on a finding is not a request: a sound site resolves it", () => {
    assert.equal(awaitsApproval({ ...opened, state: "needs-approval" }, 5_000, expiryMs), undefined);
  });

  test("a request that is running (approved) no longer waits", () => {
    assert.equal(awaitsApproval({ ...asked, state: "remediating" }, 5_000, expiryMs), undefined);
  });

  test("no incident, no request", () => {
    assert.equal(awaitsApproval(null, 5_000, expiryMs), undefined);
  });
});

describe("what a failover lost, as the thread says it", () => {
  test("WAL the standby never got is a loss when no standby confirmed the commits", () => {
    assert.equal(writesLost(opened), undefined, "no promotion, nothing to say");
    assert.equal(writesLost({ ...opened, lossBytes: 0 }), "none");
    assert.equal(writesLost({ ...opened, lossBytes: 424 }), "424 B");
  });

  test("the promoted standby confirmed every acknowledged commit: none lost, the rest named as unacknowledged", () => {
    assert.equal(
      writesLost({ ...opened, lossBytes: 424, confirmedBy: "node02" }),
      "none (node02 had confirmed every acknowledged commit; 424 B of WAL that no client was told was committed did not arrive)",
    );
    assert.equal(
      writesLost({ ...opened, lossBytes: 0, confirmedBy: "node02" }),
      "none (node02 had confirmed every acknowledged commit)",
    );
  });
});
