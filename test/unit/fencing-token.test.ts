import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ControllerLease,
  controllerLeaseKey,
  formatControllerLease,
  parseControllerLease,
} from "../../jobs/controller-lease-key.ts";
import { judgeFencingToken } from "../../jobs/remediation/fencing-token.ts";

const leaseAt = (token: number, holder = "bot@ops:4242"): string =>
  formatControllerLease({ holder, token, expiresAt: 1_900_000_000_000 });

describe("the controller lease", () => {
  test("lives at one key per site", () => {
    assert.equal(controllerLeaseKey("lab"), "harbor-ha:lab:controller:lease");
  });

  test("round-trips through its JSON form; anything else is no lease", () => {
    const lease: ControllerLease = { holder: "bot@ops:1", token: 7, expiresAt: 1_900_000_000_000 };
    assert.deepEqual(parseControllerLease(formatControllerLease(lease)), lease);
    assert.equal(parseControllerLease("not json"), undefined);
    assert.equal(parseControllerLease('{"holder":"x","token":"3","expiresAt":1}'), undefined);
    assert.equal(parseControllerLease('{"holder":"x","token":1.5,"expiresAt":1}'), undefined);
    assert.equal(parseControllerLease("null"), undefined);
  });
});

describe("the fencing-token check before a remediation action", () => {
  test("runs an action sent under the lease's current token", () => {
    assert.deepEqual(judgeFencingToken("lab", "postgres.promote", 3, leaseAt(3)), {
      ok: true,
      holder: "bot@ops:4242",
    });
  });

  test("refuses a deposed controller's token, naming both tokens", () => {
    const verdict = judgeFencingToken("lab", "postgres.promote", 2, leaseAt(3));
    assert.equal(verdict.ok, false);
    assert.match(
      !verdict.ok ? verdict.message : "",
      /postgres\.promote refused: request token 2 is not the lease's current token 3 \(held by bot@ops:4242\): a deposed controller's/,
    );
  });

  test("refuses a token newer than the lease: nobody holds what it claims", () => {
    const verdict = judgeFencingToken("lab", "postgres.fence", 4, leaseAt(3));
    assert.ok(
      !verdict.ok && /request token 4 .* current token 3 .*newer than the lease/.test(verdict.message),
    );
  });

  test("refuses when no controller holds the lease, or it is garbled", () => {
    const none = judgeFencingToken("lab", "keepalived.stop", 1, null);
    assert.ok(
      !none.ok &&
        /no controller holds the lease \(harbor-ha:lab:controller:lease is absent\)/.test(none.message),
    );
    const garbled = judgeFencingToken("lab", "keepalived.stop", 1, "{");
    assert.ok(!garbled.ok && /holds no lease/.test(garbled.message));
  });

  test("refuses a request without an integer token", () => {
    for (const token of [undefined, "3", 3.5, Number.NaN]) {
      const verdict = judgeFencingToken("lab", "postgres.rejoin", token, leaseAt(3));
      assert.ok(!verdict.ok && /is not an integer/.test(verdict.message), String(token));
    }
  });
});
