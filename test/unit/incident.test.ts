import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { followedBy, type Incident } from "../../jobs/controller/incident.ts";
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
