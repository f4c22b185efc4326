import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { failoverPlan, rejoinPlan, switchoverPlan } from "../../jobs/controller/manual-plans.ts";
import { buildSnapshot } from "../../jobs/controller/snapshot.ts";
import {
  healthyObservation,
  healthyPair,
  snapshotInput,
  standbyPostgres,
} from "../support/observation-fixtures.ts";
import { examplePolicy } from "../support/site-fixtures.ts";

const policy = examplePolicy();
const healthy = () => buildSnapshot(snapshotInput(healthyPair()));
const kinds = (plan: ReturnType<typeof switchoverPlan>) =>
  plan.ok ? plan.decision.actions.map((a) => `${a.kind} ${"node" in a ? a.node : a.primary}`) : [plan.reason];

describe("the operator's plans", () => {
  test("switchover: writes blocked and replayed before the old primary is fenced and the standby promoted", () => {
    assert.deepEqual(kinds(switchoverPlan(healthy())), [
      "block-writes node01",
      "wait-replay node02",
      "fence node01",
      "promote node02",
      "verify-write node02",
      "rejoin node01",
      "set-roles node02",
      "start-keepalived node01",
    ]);
  });

  test("switchover asks for approval unless the site says otherwise (slack.approval.switchover)", () => {
    const asked = switchoverPlan(healthy());
    assert.equal(asked.ok && asked.decision.needsApproval, true);
    const direct = switchoverPlan(healthy(), undefined, { needsApproval: false });
    assert.equal(direct.ok && direct.decision.needsApproval, false);
    assert.deepEqual(kinds(direct), kinds(asked), "the same plan either way");
  });

  test("switchover refuses a standby that does not stream, a target that is the primary, and no primary", () => {
    const observations = healthyPair();
    const node02 = healthyObservation("node02", { primary: false });
    observations.set("node02", {
      ...node02,
      postgres: {
        ok: true,
        durationMs: 1,
        ...standbyPostgres(),
        walReceiver: { status: "waiting", senderHost: null },
      },
    });
    assert.match(
      kinds(switchoverPlan(buildSnapshot(snapshotInput(observations))))[0] ?? "",
      /node02 is not streaming \(WAL receiver waiting\)/,
    );
    assert.match(kinds(switchoverPlan(healthy(), "node01"))[0] ?? "", /node01 is already the primary/);
    assert.match(kinds(switchoverPlan(healthy(), "node09"))[0] ?? "", /node09 is not a current standby/);
    assert.match(
      kinds(switchoverPlan(buildSnapshot(snapshotInput(new Map()))))[0] ?? "",
      /there is no primary/,
    );
  });

  test("failover is always asked, and says how far behind the standby is", () => {
    const plan = failoverPlan(healthy(), "node01", "0/3000148", policy);
    assert.ok(plan.ok);
    assert.equal(plan.decision.needsApproval, true);
    assert.match(plan.decision.reason, /forced failover from node01 to node02: node02 is 0 bytes behind/);
    const behind = failoverPlan(healthy(), "node01", null, { ...policy, maxLagBytes: 0 });
    assert.ok(behind.ok);
  });

  test("rejoin uses pg_rewind; a re-clone is asked first; the primary cannot rejoin itself", () => {
    const plain = rejoinPlan(healthy(), "node02", false);
    assert.deepEqual(kinds(plain), ["rejoin node02", "set-roles node01", "start-keepalived node02"]);
    assert.equal(plain.ok && plain.decision.needsApproval, false);
    const reclone = rejoinPlan(healthy(), "node02", true);
    assert.equal(reclone.ok && reclone.decision.needsApproval, true);
    assert.match(kinds(rejoinPlan(healthy(), "node01", false))[0] ?? "", /node01 is the primary/);
  });
});
