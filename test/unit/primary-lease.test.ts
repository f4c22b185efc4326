import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  liveUpstream,
  primaryLeaseKey,
  SELF_FENCE_STOP_SECONDS,
  STANDBY_REPLY_FRESH_MS,
  selfFenceAfterMs,
  selfFenceVerdict,
  streamingStandbys,
  walReceiverTimeoutMs,
} from "../../jobs/primary-lease.ts";
import { UpstreamWatch } from "../../jobs/upstream-watch.ts";
import type { ReplicationConnection } from "../../probes/observation.ts";

const LEASE = 6_000;

const standby = (overrides: Partial<ReplicationConnection> = {}): ReplicationConnection => ({
  applicationName: "node02",
  clientAddr: "10.77.0.12",
  state: "streaming",
  syncState: "async",
  replayLagBytes: 0,
  replyAgeSeconds: 0.4,
  ...overrides,
});

describe("the primary's verdict when it cannot renew its lease", () => {
  test("a standby never fences itself, whatever it can reach", () => {
    assert.equal(
      selfFenceVerdict({ isPrimary: false, sinceRenewedMs: 60_000, leaseMs: LEASE, streamingStandbys: [] }),
      "renewing",
    );
  });

  test("for less than half the lease, nothing is decided", () => {
    const sinceRenewedMs = selfFenceAfterMs(LEASE) - 1;
    assert.equal(
      selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, streamingStandbys: [] }),
      "renewing",
    );
  });

  test("after half the lease it holds while a standby streams from it, and stops itself when none does", () => {
    const sinceRenewedMs = selfFenceAfterMs(LEASE);
    assert.equal(
      selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, streamingStandbys: ["node02"] }),
      "hold",
    );
    assert.equal(
      selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, streamingStandbys: [] }),
      "fence",
    );
  });

  test("a standby streams only with a fresh reply: a link that went silent still shows 'streaming' for a while", () => {
    assert.deepEqual(streamingStandbys({ replication: [standby()] }), ["node02"]);
    assert.deepEqual(
      streamingStandbys({ replication: [standby({ replyAgeSeconds: STANDBY_REPLY_FRESH_MS / 1000 })] }),
      [],
    );
    assert.deepEqual(streamingStandbys({ replication: [standby({ replyAgeSeconds: null })] }), []);
    assert.deepEqual(streamingStandbys({ replication: [standby({ state: "catchup" })] }), []);
    assert.deepEqual(streamingStandbys({ replication: [] }), []);
  });

  test("the self-fence happens well before the lease runs out in Redis", () => {
    assert.ok(selfFenceAfterMs(LEASE) <= LEASE / 2);
    assert.equal(primaryLeaseKey("lab", "node01"), "harbor-ha:lab:primary-lease:node01");
  });
});

describe("the standby's side of the same link", () => {
  test("its receiver gives up on a silent primary only after that primary has seen it and stopped", () => {
    for (const probeIntervalMs of [50, 500, 2_000]) {
      const timeout = walReceiverTimeoutMs(probeIntervalMs);
      const primaryStopsBy = STANDBY_REPLY_FRESH_MS + probeIntervalMs + SELF_FENCE_STOP_SECONDS * 1_000;
      assert.ok(timeout > primaryStopsBy, `${timeout} ms > ${primaryStopsBy} ms`);
      assert.equal(timeout % 1_000, 0, "whole seconds");
    }
    assert.equal(walReceiverTimeoutMs(500), 6_000);
  });

  test("a streaming receiver names its live primary; anything else names none", () => {
    const receiver = (status: string) => ({
      role: "standby" as const,
      walReceiver: { status, senderHost: "10.77.0.11" },
    });
    assert.equal(liveUpstream(receiver("streaming")), "10.77.0.11");
    assert.equal(liveUpstream(receiver("waiting")), null);
    assert.equal(liveUpstream({ role: "standby", walReceiver: null }), null);
    assert.equal(liveUpstream({ role: "primary", walReceiver: null }), null);
  });

  test("the quiet time counts from the last stream seen, or from the agent's start", () => {
    const watch = new UpstreamWatch(1_000);
    assert.equal(watch.quietForMs(4_000), 3_000);
    watch.saw({ role: "standby", walReceiver: { status: "streaming", senderHost: "10.77.0.11" } }, 5_000);
    assert.equal(watch.quietForMs(5_500), 500);
    watch.saw({ role: "standby", walReceiver: null }, 9_000);
    assert.equal(watch.quietForMs(9_000), 4_000, "a quiet look does not reset it");
  });
});
