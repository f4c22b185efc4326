import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ManagedContainer } from "../../probes/observation.ts";
import {
  lsnDistance,
  parseLsn,
  postgresFactsFromStatus,
  replayLagSeconds,
  roleFromContainers,
  timelineOfWalFile,
} from "../../probes/postgres-facts.ts";

/** The status row of a primary with one streaming standby 0x100 bytes behind. */
function primaryRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    in_recovery: false,
    synchronous_standby_names: 'ANY 1 ("node02")',
    current_lsn: "0/3000248",
    current_walfile: "000000020000000000000003",
    received_lsn: null,
    replayed_lsn: null,
    replay_age_seconds: null,
    checkpoint_timeline: 1,
    wal_receiver: null,
    replication: [
      {
        application_name: "node02",
        client_addr: "10.77.0.12",
        state: "streaming",
        sync_state: "quorum",
        replay_lsn: "0/3000148",
        reply_age_seconds: 0.25,
      },
    ],
    ...overrides,
  };
}

/** The status row of a standby streaming from node01 that has replayed all but 0x40 bytes. */
function standbyRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    in_recovery: true,
    synchronous_standby_names: 'ANY 1 ("node01")',
    current_lsn: null,
    current_walfile: null,
    received_lsn: "0/3000188",
    replayed_lsn: "0/3000148",
    replay_age_seconds: 0.75,
    checkpoint_timeline: 1,
    wal_receiver: { status: "streaming", sender_host: "10.77.0.11", received_tli: 2 },
    replication: [],
    ...overrides,
  };
}

describe("LSN arithmetic", () => {
  test("an LSN is its two 32-bit halves", () => {
    assert.equal(parseLsn("0/0"), 0n);
    assert.equal(parseLsn("16/B374D848"), (0x16n << 32n) + 0xb374d848n);
    assert.equal(parseLsn("FFFFFFFF/FFFFFFFF"), 2n ** 64n - 1n);
  });

  test("anything that is not an LSN is undefined", () => {
    for (const text of [null, undefined, "", "0/", "/1", "0/1/2", "G/1", "123456789/0", " 0/1"]) {
      assert.equal(parseLsn(text), undefined, String(text));
    }
  });

  test("the distance across the 32-bit boundary counts every byte", () => {
    assert.equal(lsnDistance("1/00000010", "0/FFFFFFF0"), 0x20);
    assert.equal(lsnDistance("0/3000188", "0/3000148"), 0x40);
  });

  test("a replay ahead of the receiver (WAL from its own pg_wal after a restart) is no lag", () => {
    assert.equal(lsnDistance("0/3000100", "0/3000188"), 0);
  });

  test("an unknown end gives an unknown distance", () => {
    assert.equal(lsnDistance(null, "0/1"), null);
    assert.equal(lsnDistance("0/1", "garbage"), null);
  });

  test("a standby that replayed all it received is 0 s behind, however old its last transaction", () => {
    assert.equal(replayLagSeconds("0/3000148", "0/3000148", 3600), 0);
    assert.equal(replayLagSeconds("0/3000188", "0/3000148", 2.5), 2.5);
    assert.equal(replayLagSeconds("0/3000188", "0/3000148", null), null);
    assert.equal(replayLagSeconds(null, null, -0.01), 0, "clock skew never makes a negative lag");
  });

  test("a WAL file name starts with its timeline", () => {
    assert.equal(timelineOfWalFile("000000020000000000000003"), 2);
    assert.equal(timelineOfWalFile("0000000A0000000100000003"), 10);
    assert.equal(timelineOfWalFile("00000002.history"), null);
    assert.equal(timelineOfWalFile(null), null);
  });
});

describe("status row to facts", () => {
  test("a primary: writes accepted, timeline from its WAL file, each standby's replay lag", () => {
    const facts = postgresFactsFromStatus(primaryRow());
    assert.deepEqual(facts, {
      role: "primary",
      detail: "accepting writes",
      timeline: 2,
      currentLsn: "0/3000248",
      receivedLsn: null,
      replayedLsn: null,
      replayLagBytes: null,
      replayLagSeconds: null,
      walReceiver: null,
      replication: [
        {
          applicationName: "node02",
          clientAddr: "10.77.0.12",
          state: "streaming",
          syncState: "quorum",
          replayLagBytes: 0x100,
          replyAgeSeconds: 0.25,
        },
      ],
      synchronousStandbyNames: 'ANY 1 ("node02")',
    });
  });

  test("a freshly promoted primary whose WAL file name is missing falls back to the checkpoint's timeline", () => {
    assert.equal(postgresFactsFromStatus(primaryRow({ current_walfile: null })).timeline, 1);
  });

  test("a primary without standbys lists none", () => {
    assert.deepEqual(postgresFactsFromStatus(primaryRow({ replication: [] })).replication, []);
  });

  test("a streaming standby: received and replayed LSNs, lag in bytes and seconds, its sender", () => {
    const facts = postgresFactsFromStatus(standbyRow());
    assert.equal(facts.role, "standby");
    assert.equal(facts.detail, "in recovery, WAL receiver streaming");
    assert.equal(facts.timeline, 2, "the timeline it receives");
    assert.equal(facts.receivedLsn, "0/3000188");
    assert.equal(facts.replayedLsn, "0/3000148");
    assert.equal(facts.replayLagBytes, 0x40);
    assert.equal(facts.replayLagSeconds, 0.75);
    assert.deepEqual(facts.walReceiver, { status: "streaming", senderHost: "10.77.0.11" });
    assert.equal(facts.currentLsn, null);
    assert.equal(facts.synchronousStandbyNames, null, "a standby's setting waits for nobody");
  });

  test("a primary that commits alone says so (an empty setting), unlike one whose setting is unknown", () => {
    assert.equal(
      postgresFactsFromStatus(primaryRow({ synchronous_standby_names: "" })).synchronousStandbyNames,
      "",
    );
    assert.equal(
      postgresFactsFromStatus(primaryRow({ synchronous_standby_names: undefined })).synchronousStandbyNames,
      null,
    );
  });

  test("a standby whose WAL receiver is gone says so, and keeps the checkpoint's timeline", () => {
    const facts = postgresFactsFromStatus(standbyRow({ wal_receiver: null, received_lsn: null }));
    assert.equal(facts.detail, "in recovery, no WAL receiver");
    assert.equal(facts.walReceiver, null);
    assert.equal(facts.timeline, 1);
    assert.equal(facts.replayLagBytes, null, "nothing received: the lag is unknown, not zero");
  });

  test("numbers that arrive as text (numeric columns) are read; garbled ones are unknown", () => {
    assert.equal(postgresFactsFromStatus(standbyRow({ replay_age_seconds: "1.5" })).replayLagSeconds, 1.5);
    const garbled = postgresFactsFromStatus(standbyRow({ replay_age_seconds: "soon", received_lsn: 42 }));
    assert.equal(garbled.replayLagSeconds, null);
    assert.equal(garbled.receivedLsn, null);
  });
});

describe("a server that does not answer: its role from its containers", () => {
  const container = (state: string, status: string): ManagedContainer => ({
    name: "postgres-node02",
    component: "postgres",
    state,
    status,
  });

  test("no postgres container: absent", () => {
    const facts = roleFromContainers([], "connect ECONNREFUSED 10.77.0.12:5432");
    assert.equal(facts.role, "absent");
    assert.match(facts.detail, /no postgres container \(connect ECONNREFUSED/);
  });

  test("a killed container: stopped, with Docker's status", () => {
    const facts = roleFromContainers([container("exited", "Exited (137) 2 seconds ago")], "refused");
    assert.equal(facts.role, "stopped");
    assert.equal(facts.detail, "postgres-node02 exited: Exited (137) 2 seconds ago");
    assert.equal(facts.timeline, null);
    assert.deepEqual(facts.replication, []);
  });

  test("a running container that does not answer: unknown, not stopped", () => {
    const facts = roleFromContainers(
      [container("running", "Up 1 second")],
      "the database system is starting up",
    );
    assert.equal(facts.role, "unknown");
    assert.match(facts.detail, /running but does not answer: the database system is starting up/);
  });
});
