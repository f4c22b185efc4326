import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson } from "../../jobs/signing/canonical-json.ts";
import {
  CLOCK_SKEW_MS,
  MAX_PAYLOAD_BYTES,
  PayloadTooLargeError,
  signJob,
  verifyJob,
} from "../../jobs/signing/job-signature.ts";
import { siteKeyForTest } from "../support/job-fixtures.ts";

const key = siteKeyForTest();
const address = {
  queue: "harbor-ha:lab:node.node02",
  name: "postgres.rejoin",
  jobId: "plan1-2-postgres.rejoin-node02",
};
const payload = { fencingToken: 7, primary: { node: "node01", address: "10.77.0.11" }, allowReclone: true };
const now = 1_800_000_000_000;
const signed = () => signJob(key, address, payload, { issuedAt: now, expiresAt: now + 60_000 });
/** What BullMQ hands the consumer: the data after a JSON round trip through Redis. */
const stored = (data: unknown) => JSON.parse(JSON.stringify(data)) as unknown;

describe("job signatures", () => {
  it("verifies a signed job after BullMQ's JSON round trip, whatever the key order", () => {
    const data = stored(signed()) as { payload: Record<string, unknown>; auth: unknown };
    const reordered = {
      auth: data.auth,
      payload: { allowReclone: true, primary: { address: "10.77.0.11", node: "node01" }, fencingToken: 7 },
    };
    for (const candidate of [data, reordered]) {
      const verdict = verifyJob(key, address, candidate, now + 1_000);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
    }
  });

  it("carries the payload's fencing token in the signed part of the envelope", () => {
    assert.equal(signed().auth.fencingToken, 7);
    assert.equal(
      signJob(key, { ...address, name: "ping" }, { sentAt: 1 }, { issuedAt: now, expiresAt: now + 1 }).auth
        .fencingToken,
      null,
    );
  });

  it("refuses a job signed with another key as a bad signature", () => {
    const forged = signJob(siteKeyForTest(), address, payload, { issuedAt: now, expiresAt: now + 60_000 });
    const verdict = verifyJob(key, address, stored(forged), now);
    assert.deepEqual(verdict.ok ? "ok" : verdict.reason, "bad signature");
  });

  it("refuses a signed job whose payload, id, name, queue, expiry or token was changed", () => {
    const data = stored(signed()) as { payload: Record<string, unknown>; auth: Record<string, unknown> };
    const tampered: Array<[string, unknown, typeof address]> = [
      ["payload", { ...data, payload: { ...data.payload, fencingToken: 8 } }, address],
      ["an added field", { ...data, payload: { ...data.payload, extra: 1 } }, address],
      ["expiry", { ...data, auth: { ...data.auth, expiresAt: now + 3_600_000 } }, address],
      ["token", { ...data, auth: { ...data.auth, fencingToken: 8 } }, address],
      ["job id", data, { ...address, jobId: "other" }],
      ["name", data, { ...address, name: "postgres.promote" }],
      ["queue", data, { ...address, queue: "harbor-ha:lab:node.node01" }],
    ];
    for (const [what, candidate, where] of tampered) {
      const verdict = verifyJob(key, where, candidate, now);
      assert.equal(verdict.ok ? "ok" : verdict.reason, "bad signature", what);
    }
  });

  it("refuses a plain payload, as an attacker's Queue.add sends it, as not signed", () => {
    for (const data of [
      payload,
      { payload, auth: { v: 1 } },
      null,
      "x",
      { payload, auth: signed().auth, more: 1 },
    ]) {
      const verdict = verifyJob(key, address, data, now);
      assert.equal(verdict.ok ? "ok" : verdict.reason, "not signed", JSON.stringify(data));
    }
  });

  it("refuses an expired job, and one issued in the future, beyond the clock skew", () => {
    const data = stored(signed());
    const expired = verifyJob(key, address, data, now + 60_000 + CLOCK_SKEW_MS + 1);
    assert.equal(expired.ok ? "ok" : expired.reason, "expired");
    assert.equal(verifyJob(key, address, data, now + 60_000 + CLOCK_SKEW_MS).ok, true);
    const early = verifyJob(key, address, data, now - CLOCK_SKEW_MS - 1);
    assert.equal(early.ok ? "ok" : early.reason, "issued in the future");
  });

  it("refuses an oversized payload unread, and will not sign one", () => {
    const big = { sentAt: 1, padding: "x".repeat(MAX_PAYLOAD_BYTES) };
    assert.throws(
      () => signJob(key, address, big, { issuedAt: now, expiresAt: now + 1 }),
      PayloadTooLargeError,
    );
    const data = { payload: big, auth: signed().auth };
    const verdict = verifyJob(key, address, data, now);
    assert.equal(verdict.ok ? "ok" : verdict.reason, "oversized");
    assert.match(verdict.ok ? "" : verdict.detail, /over the 65536-byte limit/);
  });

  it("refuses an envelope whose payload token differs from the signed one", () => {
    const data = signJob(key, address, payload, { issuedAt: now, expiresAt: now + 1_000, fencingToken: 9 });
    const verdict = verifyJob(key, address, stored(data), now);
    assert.equal(verdict.ok ? "ok" : verdict.reason, "malformed");
  });
});

describe("canonical JSON", () => {
  it("sorts keys, drops undefined properties and refuses what JSON cannot carry", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: undefined, c: [1, "x"] } }), '{"a":{"c":[1,"x"]},"b":1}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), /not JSON/);
    assert.throws(() => canonicalJson({ a: new Date(0) }), /not JSON/);
  });
});
