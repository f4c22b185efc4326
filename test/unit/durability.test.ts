import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Durability } from "../../config/schema.ts";
import { findingKey } from "../../jobs/controller/decide.ts";
import {
  confirmingStandby,
  type DurabilityInput,
  decideDurability,
  listedStandbys,
  SYNCHRONOUS_AGAIN_PATIENCE,
} from "../../jobs/controller/durability.ts";
import { buildSnapshot, type FindingCode } from "../../jobs/controller/snapshot.ts";
import type { NodeObservation, PostgresFacts } from "../../probes/observation.ts";
import { healthyObservation, primaryPostgres, snapshotInput } from "../support/observation-fixtures.ts";

const CONFIRMATIONS = 2;

/** node01 primary with these facts, node02 a standby (or silent when `standbyUp` is false). */
function pair(primary: PostgresFacts, standbyUp = true): Map<string, NodeObservation> {
  const node01 = healthyObservation("node01", { primary: true });
  const observations = new Map<string, NodeObservation>([
    ["node01", { ...node01, postgres: { ok: true as const, durationMs: 2, ...primary } }],
  ]);
  if (standbyUp) observations.set("node02", healthyObservation("node02", { primary: false }));
  return observations;
}

function snapshotOf(observations: Map<string, NodeObservation>, durability: Durability = "synchronous") {
  return buildSnapshot({ ...snapshotInput(observations), durability });
}

const findingsOf = (observations: Map<string, NodeObservation>, durability?: Durability) =>
  snapshotOf(observations, durability).findings.map((finding) => `${finding.severity} ${finding.code}`);

/** Every finding of the snapshot held for `rounds` observations. */
function input(
  observations: Map<string, NodeObservation>,
  durability: Durability,
  rounds: number,
): DurabilityInput {
  const snapshot = snapshotOf(observations, durability);
  return {
    snapshot,
    durability,
    policy: { confirmations: CONFIRMATIONS, maxLagBytes: 16 * 1024 * 1024 },
    confirmations: new Map(
      snapshot.findings.map((finding) => [findingKey(finding.code as FindingCode, finding.node), rounds]),
    ),
    nodes: ["node01", "node02"],
  };
}

/** A primary that waits for node02, which is not connected. */
const waitingAlone = (): PostgresFacts => primaryPostgres([], 'ANY 1 ("node02")');
/** A primary that commits alone while node02 streams `lag` bytes behind. */
const aloneWithStandby = (lag = 0): PostgresFacts => {
  const facts = primaryPostgres(["node02"], "");
  return { ...facts, replication: facts.replication.map((standby) => ({ ...standby, replayLagBytes: lag })) };
};

describe("synchronous_standby_names, read", () => {
  test("the named standbys, in every form PostgreSQL takes", () => {
    assert.deepEqual(listedStandbys('ANY 1 ("node02")'), ["node02"]);
    assert.deepEqual(listedStandbys('FIRST 1 ("node02", node03)'), ["node02", "node03"]);
    assert.deepEqual(listedStandbys("2 (a, b, c)"), ["a", "b", "c"]);
    assert.deepEqual(listedStandbys("node02, node03"), ["node02", "node03"]);
    assert.deepEqual(listedStandbys(""), []);
    assert.deepEqual(listedStandbys(null), []);
  });

  test("only a single named standby is sure to hold every acknowledged commit", () => {
    assert.equal(confirmingStandby('ANY 1 ("node02")'), "node02");
    assert.equal(confirmingStandby("node02"), "node02");
    assert.equal(confirmingStandby('ANY 1 ("node02", "node03")'), null, "either may hold the last one");
    assert.equal(confirmingStandby("*"), null, "a pg_basebackup stream counts for *");
    assert.equal(confirmingStandby("ANY 0 (node02)"), null);
    assert.equal(confirmingStandby(""), null, "alone");
    assert.equal(confirmingStandby(null), null, "unknown");
  });
});

describe("durability findings", () => {
  test("a synchronous primary with its standby streaming: nothing to say", () => {
    assert.deepEqual(findingsOf(pair(primaryPostgres())), []);
  });

  test("waiting for a standby that does not stream is critical: writes hang", () => {
    assert.ok(findingsOf(pair(waitingAlone(), false)).includes("critical commits-waiting"));
    const strict = snapshotOf(pair(waitingAlone(), false), "strict").findings.find(
      (finding) => finding.code === "commits-waiting",
    );
    assert.match(strict?.message ?? "", /until one is back \(postgres.durability strict\)/);
  });

  test("committing alone is a warning unless the site asked for asynchronous", () => {
    assert.ok(findingsOf(pair(aloneWithStandby())).includes("warning commits-alone"));
    assert.deepEqual(findingsOf(pair(aloneWithStandby()), "asynchronous"), []);
  });
});

describe("decideDurability", () => {
  test("synchronous: a primary waiting for no streaming standby commits alone once that is confirmed", () => {
    assert.equal(
      decideDurability(input(pair(waitingAlone(), false), "synchronous", CONFIRMATIONS - 1)),
      undefined,
    );
    const change = decideDurability(input(pair(waitingAlone(), false), "synchronous", CONFIRMATIONS));
    assert.equal(change?.node, "node01");
    assert.equal(change?.alone, true);
    assert.match(change?.reason ?? "", /node02 does not stream from node01/);
  });

  test("strict never commits alone; asynchronous never changes anything", () => {
    assert.equal(decideDurability(input(pair(waitingAlone(), false), "strict", 100)), undefined);
    assert.equal(decideDurability(input(pair(waitingAlone(), false), "asynchronous", 100)), undefined);
    assert.equal(decideDurability(input(pair(aloneWithStandby()), "asynchronous", 100)), undefined);
  });

  test("a primary alone waits again once a standby streams caught up, with twice the patience", () => {
    const patience = CONFIRMATIONS * SYNCHRONOUS_AGAIN_PATIENCE;
    assert.equal(decideDurability(input(pair(aloneWithStandby()), "synchronous", patience - 1)), undefined);
    const change = decideDurability(input(pair(aloneWithStandby()), "synchronous", patience));
    assert.deepEqual([change?.node, change?.alone], ["node01", false]);
    assert.match(change?.reason ?? "", /node02 streams from node01 again/);
    assert.equal(
      decideDurability(input(pair(aloneWithStandby()), "strict", patience))?.alone,
      false,
      "strict after a promotion that went alone",
    );
  });

  test("a standby still far behind does not make the primary wait for it", () => {
    const farBehind = aloneWithStandby(64 * 1024 * 1024);
    assert.equal(decideDurability(input(pair(farBehind), "synchronous", 100)), undefined);
  });

  test("no change without exactly one primary whose setting is known", () => {
    const unknown = { ...waitingAlone(), synchronousStandbyNames: null };
    assert.equal(decideDurability(input(pair(unknown, false), "synchronous", 100)), undefined);
    const standbyOnly = new Map([["node02", healthyObservation("node02", { primary: false })]]);
    assert.equal(decideDurability(input(standbyOnly, "synchronous", 100)), undefined);
  });
});
