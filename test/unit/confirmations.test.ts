import assert from "node:assert/strict";
import { test } from "node:test";
import { confirmationCounts, updateConfirmations } from "../../jobs/controller/confirmations.ts";
import { buildSnapshot } from "../../jobs/controller/snapshot.ts";
import {
  FIXTURE_NOW,
  healthyObservation,
  healthyPair,
  keepalivedStopped,
  snapshotInput,
} from "../support/observation-fixtures.ts";

const split = () => {
  const observations = healthyPair();
  observations.set("node02", healthyObservation("node02", { primary: false, holdsVip: true }));
  return buildSnapshot(snapshotInput(observations));
};
const step = (
  previous: ReturnType<typeof updateConfirmations>,
  at: number,
  dockerEventNodes: string[] = [],
  snapshot = split(),
) =>
  updateConfirmations(previous, snapshot, {
    required: 3,
    intervalMs: 500,
    now: FIXTURE_NOW + at,
    dockerEventNodes: new Set(dockerEventNodes),
  });

test("a finding counts once per probe interval, however many observations arrive", () => {
  let sightings = step(new Map(), 0);
  sightings = step(sightings, 100);
  sightings = step(sightings, 200);
  assert.equal(
    confirmationCounts(sightings).get("vip-split:site"),
    1,
    "three observations within one interval",
  );
  sightings = step(sightings, 520);
  sightings = step(sightings, 1_020);
  assert.equal(confirmationCounts(sightings).get("vip-split:site"), 3);
});

test("a finding that goes away starts from nothing when it comes back", () => {
  let sightings = step(new Map(), 0);
  sightings = step(sightings, 500);
  sightings = step(sightings, 1_000, [], buildSnapshot(snapshotInput(healthyPair())));
  assert.equal(sightings.size, 0);
  sightings = step(sightings, 1_500);
  assert.equal(confirmationCounts(sightings).get("vip-split:site"), 1);
});

test("a Docker event on a node brings its findings to one re-check from confirmed", () => {
  const observations = healthyPair();
  observations.set("node02", keepalivedStopped(healthyObservation("node02", { primary: false })));
  const snapshot = buildSnapshot(snapshotInput(observations));
  const sightings = step(new Map(), 0, ["node02"], snapshot);
  assert.equal(confirmationCounts(sightings).get("keepalived-down:node02"), 2);
  assert.equal(
    confirmationCounts(step(new Map(), 0, ["node01"], snapshot)).get("keepalived-down:node02"),
    1,
    "another node's event does not count",
  );
});
