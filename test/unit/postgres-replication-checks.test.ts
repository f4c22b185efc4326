import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  judgeReplication,
  type ReplicationExpectation,
  type ReplicationObservation,
} from "../../jobs/deploy/postgres-replication-checks.ts";

const NODE01 = { name: "node01", address: "10.77.0.11" };
const NODE02 = { name: "node02", address: "10.77.0.12" };

const expecting = (
  node: string,
  overrides: Partial<ReplicationExpectation> = {},
): ReplicationExpectation => ({
  node,
  role: node === "node01" ? "primary" : "standby",
  primary: NODE01,
  standbys: [NODE02],
  synchronous: false,
  ...overrides,
});

const healthyPrimary = (overrides: Partial<ReplicationObservation> = {}): ReplicationObservation => ({
  inRecovery: false,
  clusterState: "in production",
  senders: [{ applicationName: "node02", clientAddr: "10.77.0.12", state: "streaming", syncState: "async" }],
  receiver: null,
  ...overrides,
});

const healthyStandby = (overrides: Partial<ReplicationObservation> = {}): ReplicationObservation => ({
  inRecovery: true,
  clusterState: "in archive recovery",
  senders: [],
  receiver: { status: "streaming", senderHost: "10.77.0.11" },
  ...overrides,
});

describe("the runbook's replication checks on the primary", () => {
  test("a primary streaming to its standby passes, with one line per check", () => {
    const verdict = judgeReplication(expecting("node01"), healthyPrimary());
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.lines, [
      "pg_stat_replication: node02 streaming (sync_state async)",
      "pg_controldata: in production",
      "pg_is_in_recovery: f",
    ]);
  });

  test("a standby that has not connected fails, and is worth waiting for", () => {
    const verdict = judgeReplication(expecting("node01"), healthyPrimary({ senders: [] }));
    assert.equal(verdict.ok, false);
    assert.equal(verdict.transient, true);
    assert.deepEqual(verdict.lines[0], "pg_stat_replication: node02 missing");
    assert.match(verdict.failures[0]?.hint ?? "", /postgres\.standby on node02/);
  });

  test("a standby still catching up is not streaming yet", () => {
    const catchingUp = healthyPrimary({
      senders: [
        { applicationName: "node02", clientAddr: "10.77.0.12", state: "catchup", syncState: "async" },
      ],
    });
    const verdict = judgeReplication(expecting("node01"), catchingUp);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.lines[0], "pg_stat_replication: node02 catchup (sync_state async)");
  });

  test("a standby is recognised by its address when its application_name differs", () => {
    const renamed = healthyPrimary({
      senders: [
        { applicationName: "walreceiver", clientAddr: "10.77.0.12", state: "streaming", syncState: "async" },
      ],
    });
    assert.equal(judgeReplication(expecting("node01"), renamed).ok, true);
  });

  test("with postgres.synchronous, an asynchronous standby is a failure; a quorum one passes", () => {
    const sync = expecting("node01", { synchronous: true });
    assert.equal(judgeReplication(sync, healthyPrimary()).ok, false);
    const quorum = healthyPrimary({
      senders: [
        { applicationName: "node02", clientAddr: "10.77.0.12", state: "streaming", syncState: "quorum" },
      ],
    });
    assert.equal(judgeReplication(sync, quorum).ok, true);
  });

  test("a primary in recovery fails at once, its wrong role first, with nothing to wait for", () => {
    const verdict = judgeReplication(expecting("node01"), healthyStandby());
    assert.equal(verdict.ok, false);
    assert.equal(verdict.transient, false);
    assert.equal(verdict.failures[0]?.check, "pg_is_in_recovery");
    assert.match(verdict.failures[0]?.message ?? "", /node01 is a standby but should be the primary/);
  });
});

describe("the runbook's replication checks on a standby", () => {
  test("a standby streaming from the primary's address passes", () => {
    const verdict = judgeReplication(expecting("node02"), healthyStandby());
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.lines, [
      "pg_stat_wal_receiver: streaming from 10.77.0.11",
      "pg_controldata: in archive recovery",
      "pg_is_in_recovery: t",
    ]);
  });

  test("a standby without a WAL receiver fails with a hint at its log", () => {
    const verdict = judgeReplication(expecting("node02"), healthyStandby({ receiver: null }));
    assert.equal(verdict.ok, false);
    assert.equal(verdict.lines[0], "pg_stat_wal_receiver: no WAL receiver");
    assert.match(verdict.failures[0]?.hint ?? "", /docker logs pg-node02/);
  });

  test("a standby streaming from another address (the VIP, an old primary) fails", () => {
    const verdict = judgeReplication(
      expecting("node02"),
      healthyStandby({ receiver: { status: "streaming", senderHost: "10.77.0.100" } }),
    );
    assert.equal(verdict.ok, false);
    assert.match(verdict.failures[0]?.message ?? "", /streams from 10\.77\.0\.100, not from node01/);
  });

  test("a standby that is a primary (split brain) fails on its role and state, not transiently", () => {
    const verdict = judgeReplication(expecting("node02"), healthyPrimary({ senders: [] }));
    assert.equal(verdict.transient, false);
    assert.deepEqual(
      verdict.failures.map((f) => f.check),
      ["pg_is_in_recovery", "pg_controldata", "pg_stat_wal_receiver"],
    );
    assert.match(verdict.failures[0]?.hint ?? "", /fence node02/);
  });
});
