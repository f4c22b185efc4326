import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  afterRewind,
  decideRunningRejoin,
  mayRestart,
  parseRewindOutput,
  rewindHint,
} from "../../jobs/remediation/rejoin-decision.ts";
import { primaryPostgres, standbyPostgres } from "../support/observation-fixtures.ts";

const NEW_PRIMARY = "10.77.0.12";

describe("rejoining a node whose server still runs", () => {
  test("a standby already streaming from the new primary is left as it is", () => {
    assert.equal(decideRunningRejoin(standbyPostgres(0, NEW_PRIMARY), NEW_PRIMARY).kind, "already");
  });

  test("a running primary is refused: it must be fenced first", () => {
    const decision = decideRunningRejoin(primaryPostgres([]), NEW_PRIMARY);
    assert.equal(decision.kind, "refuse");
    assert.match(decision.detail, /fence it first/);
  });

  test("a standby that follows the old primary, or nothing, is stopped and rewound", () => {
    const following = decideRunningRejoin(standbyPostgres(0, "10.77.0.11"), NEW_PRIMARY);
    assert.equal(following.kind, "stop-and-rewind");
    assert.match(following.detail, /streaming from 10\.77\.0\.11/);
    const lost = decideRunningRejoin({ ...standbyPostgres(), walReceiver: null }, NEW_PRIMARY);
    assert.equal(lost.kind, "stop-and-rewind");
    assert.match(lost.detail, /no WAL receiver/);
  });
});

describe("after pg_rewind", () => {
  test("a rewind that worked starts the standby; one that failed re-clones only when approved", () => {
    assert.equal(afterRewind(true, false), "start");
    assert.equal(afterRewind(true, true), "start");
    assert.equal(afterRewind(false, false), "fail");
    assert.equal(afterRewind(false, true), "reclone");
  });

  test("reads where the histories diverged", () => {
    const output = `pg_rewind: servers diverged at WAL location 0/3000148 on timeline 1
pg_rewind: rewinding from last common checkpoint at 0/2000060 on timeline 1
pg_rewind: Done!`;
    assert.deepEqual(parseRewindOutput(output), {
      noRewindRequired: false,
      divergedAt: "0/3000148",
      divergedOnTimeline: 1,
    });
  });

  test("reads that no rewind was required (the old primary's WAL is a prefix of the new one's)", () => {
    const report = parseRewindOutput(
      "pg_rewind: servers diverged at WAL location 0/30000A0 on timeline 1\npg_rewind: no rewind required",
    );
    assert.equal(report.noRewindRequired, true);
    assert.equal(report.divergedAt, "0/30000A0");
  });

  test("the hint names the usual causes, and re-cloning when it was not approved", () => {
    assert.match(
      rewindHint("pg_rewind: error: source and target clusters are from different systems", false),
      /another cluster.*allowReclone/,
    );
    assert.match(
      rewindHint('pg_rewind: error: could not open file "pg_wal/000000010000000000000002"', true),
      /no longer has the WAL/,
    );
    assert.doesNotMatch(rewindHint("pg_rewind: error: something else", true), /allowReclone/);
    assert.match(rewindHint("pg_rewind: error: something else", false), /allowReclone/);
  });
});

describe("restarting a stopped server as it is", () => {
  test("a standby's folder starts; a primary's only when the caller says no other primary exists", () => {
    assert.equal(mayRestart(true, false), true);
    assert.equal(mayRestart(false, false), false);
    assert.equal(mayRestart(false, true), true);
  });
});
