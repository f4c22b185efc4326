import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatControllerLease } from "../../jobs/controller-lease-key.ts";
import { rotationBlocker } from "../../jobs/site-key-rotation.ts";

describe("when a site key rotation may start", () => {
  const now = 1_800_000_000_000;
  const lease = (expiresAt: number) => formatControllerLease({ holder: "bot@ops:7", token: 4, expiresAt });

  test("no controller lease, an expired one or a garbled one: it may", () => {
    assert.equal(rotationBlocker(null, now), undefined);
    assert.equal(rotationBlocker(lease(now - 1), now), undefined);
    assert.equal(rotationBlocker(lease(now), now), undefined);
    assert.equal(rotationBlocker("not a lease", now), undefined);
  });

  test("a live lease: a bot runs with the key in memory, and the answer names it", () => {
    assert.equal(
      rotationBlocker(lease(now + 4_200), now),
      "bot@ops:7 holds the controller lease for 5 s more",
    );
  });
});
