import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { judgeVip, type VipExpectation, type VipObservation } from "../../jobs/deploy/keepalived-verdict.ts";

const VIP = "10.77.0.100";

function onPrimaryNode(overrides: Partial<VipExpectation> = {}): VipExpectation {
  return {
    role: "primary",
    node: "node01",
    primaryNode: "node01",
    vip: VIP,
    settled: true,
    logRequired: false,
    final: false,
    ...overrides,
  };
}

function onStandbyNode(overrides: Partial<VipExpectation> = {}): VipExpectation {
  return { ...onPrimaryNode(), role: "standby", node: "node02", ...overrides };
}

const master: VipObservation = { running: true, vipHeld: true, recorded: "MASTER", logged: "MASTER" };
const backup: VipObservation = { running: true, vipHeld: false, recorded: "BACKUP", logged: "BACKUP" };
const justStarted: VipObservation = { running: true, vipHeld: false, recorded: undefined, logged: undefined };

describe("the VIP on the primary's node", () => {
  test("is right once the node is MASTER and holds the VIP", () => {
    assert.equal(judgeVip(master, onPrimaryNode({ settled: false })).kind, "ok");
  });

  test("is awaited while the election runs", () => {
    assert.equal(judgeVip(backup, onPrimaryNode({ settled: false })).kind, "wait");
    assert.equal(judgeVip(justStarted, onPrimaryNode({ settled: false })).kind, "wait");
  });

  test("is pending when the node stays BACKUP at the top priority: a peer's role file still says primary", () => {
    const verdict = judgeVip(backup, onPrimaryNode());
    assert.equal(verdict.kind, "pending");
    assert.match(verdict.summary, /moves here when the keepalived step runs on that node/);
  });

  test("fails when keepalived says MASTER but the address never arrives", () => {
    const verdict = judgeVip({ ...master, vipHeld: false }, onPrimaryNode({ final: true }));
    assert.equal(verdict.kind, "failed");
    assert.match(verdict.summary, /recorded MASTER but VIP 10\.77\.0\.100 is not on the interface/);
  });
});

describe("the VIP on a standby's node", () => {
  test("is right once settled as BACKUP without the VIP", () => {
    assert.equal(judgeVip(backup, onStandbyNode()).kind, "ok");
  });

  test("is not judged absent before a fresh keepalived could have claimed it", () => {
    assert.equal(judgeVip(backup, onStandbyNode({ settled: false })).kind, "wait");
  });

  test("is awaited while it still holds the VIP (the primary's node preempts it)", () => {
    const verdict = judgeVip(master, onStandbyNode());
    assert.equal(verdict.kind, "wait");
    assert.match(verdict.summary, /leave/);
  });

  test("fails when it still holds the VIP at the end, naming the primary's node", () => {
    const verdict = judgeVip(master, onStandbyNode({ final: true }));
    assert.equal(verdict.kind, "failed");
    assert.match(
      verdict.summary,
      /stays on node02, a standby's node: node01 \(the primary's node\) does not claim it/,
    );
    assert.ok(verdict.kind === "failed" && /run the keepalived step on node01 first/.test(verdict.hint));
  });
});

describe("keepalived itself", () => {
  test("a stopped container fails at once", () => {
    assert.equal(judgeVip({ ...backup, running: false }, onStandbyNode({ settled: false })).kind, "failed");
  });

  test("a FAULT state fails once the election had its time", () => {
    const fault: VipObservation = { ...backup, recorded: "FAULT", logged: "FAULT" };
    assert.equal(judgeVip(fault, onPrimaryNode({ settled: false })).kind, "wait");
    assert.match(judgeVip(fault, onPrimaryNode()).summary, /FAULT/);
  });

  test("after a (re)start, the log must show the instance entering a state", () => {
    const unlogged = { ...master, logged: undefined };
    assert.equal(judgeVip(unlogged, onPrimaryNode({ logRequired: true })).kind, "wait");
    const verdict = judgeVip(unlogged, onPrimaryNode({ logRequired: true, final: true }));
    assert.equal(verdict.kind, "failed");
    assert.match(verdict.summary, /never logged/);
    assert.equal(judgeVip(unlogged, onPrimaryNode({ logRequired: false })).kind, "ok");
  });

  test("no state from the notify script at the end points at script security", () => {
    const verdict = judgeVip(justStarted, onStandbyNode({ final: true }));
    assert.equal(verdict.kind, "failed");
    assert.ok(verdict.kind === "failed" && /SECURITY VIOLATION/.test(verdict.hint));
  });
});
