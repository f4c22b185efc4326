import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { primaryLeaseKey, selfFenceAfterMs, selfFenceVerdict } from "../../jobs/primary-lease.ts";
import { tcpAnswers } from "../../jobs/primary-lease-keeper.ts";

const LEASE = 6_000;

test("a standby never fences itself, whatever it can reach", () => {
  assert.equal(
    selfFenceVerdict({ isPrimary: false, sinceRenewedMs: 60_000, leaseMs: LEASE, peerReachable: false }),
    "hold",
  );
});

test("a primary whose renewals fail for less than half the lease holds without asking anyone", () => {
  const sinceRenewedMs = selfFenceAfterMs(LEASE) - 1;
  assert.equal(
    selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, peerReachable: undefined }),
    "hold",
  );
});

test("after half the lease the primary asks its peers, and a Redis outage alone does not stop it", () => {
  const sinceRenewedMs = selfFenceAfterMs(LEASE);
  assert.equal(
    selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, peerReachable: undefined }),
    "ask-peers",
  );
  assert.equal(
    selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, peerReachable: true }),
    "hold",
  );
  assert.equal(
    selfFenceVerdict({ isPrimary: true, sinceRenewedMs, leaseMs: LEASE, peerReachable: false }),
    "fence",
  );
});

test("the self-fence happens well before the lease runs out in Redis", () => {
  assert.ok(selfFenceAfterMs(LEASE) <= LEASE / 2);
  assert.equal(primaryLeaseKey("lab", "node01"), "harbor-ha:lab:primary-lease:node01");
});

// The other half, a peer that does not answer at all (its link down), is the lab's network-cut test.
test("a peer answers when something listens, and when its kernel refuses the connection", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  assert.equal(await tcpAnswers("127.0.0.1", port, 500), true);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal(await tcpAnswers("127.0.0.1", port, 500), true, "a refusal proves the path works");
});
