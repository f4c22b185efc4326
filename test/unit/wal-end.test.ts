import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatLsn,
  highestHistoryTimeline,
  parseWalEnd,
  parseWalEndOutput,
  segmentPosition,
} from "../../jobs/remediation/wal-end.ts";

const SEGMENT = 16 * 1024 * 1024;

/** pg_controldata's lines the parser reads, as PostgreSQL 15 prints them. */
function control(state: string, checkpoint: string, timeline = 1): string {
  return `pg_control version number:            1300
Database system identifier:           7713905810511363760
Database cluster state:               ${state}
Latest checkpoint location:           ${checkpoint}
Latest checkpoint's REDO location:    ${checkpoint}
Latest checkpoint's TimeLineID:       ${timeline}
Bytes per WAL segment:                16777216
Data page checksum version:           1
`;
}

/** Recorded from PostgreSQL 15 after `pg_ctl -m immediate stop` (a crash) with writes since the checkpoint. */
const AFTER_CRASH = `${control("in production", "0/17414F8")}@@harbor-ha waldump timeline 1
rmgr: Heap        len (rec/tot):     59/    59, tx:        724, lsn: 0/017F5ED8, prev 0/017F5E98, desc: INSERT off 56 flags 0x00, blkref #0: rel 1663/5/16384 blk 44
rmgr: Transaction len (rec/tot):    405/   405, tx:        724, lsn: 0/017F5F18, prev 0/017F5ED8, desc: COMMIT 2026-11-30 10:14:16.667335 UTC
pg_waldump: error: error in WAL record at 0/17F5F18: invalid record length at 0/17F60C8: wanted 24, got 0
`;

/** Recorded after pg_switch_wal() and a crash: the next segment is a recycled file. */
const RECYCLED_SEGMENT = `${control("in production", "0/7000060")}@@harbor-ha waldump timeline 1
rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/07000060, prev 0/07000028, desc: CHECKPOINT_ONLINE redo 0/7000028; tli 1; online
rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/070000D8, prev 0/07000060, desc: SWITCH
pg_waldump: error: error in WAL record at 0/70000D8: unexpected pageaddr 0/6000000 in log segment 000000010000000000000008, offset 0
`;

describe("the end of a stopped server's WAL", () => {
  test("after a crash it is where pg_waldump found no further record, past the last checkpoint", () => {
    assert.deepEqual(parseWalEndOutput(AFTER_CRASH), {
      clusterState: "in production",
      timeline: 1,
      lastLsn: "0/17F60C8",
      lsnSource: "end-of-wal",
    });
  });

  test("a recycled segment ends the WAL at the page pg_waldump could not use", () => {
    assert.equal(parseWalEndOutput(RECYCLED_SEGMENT)?.lastLsn, "0/8000000");
  });

  test("after a clean stop it is just past the shutdown checkpoint", () => {
    const clean = `${control("shut down", "0/3000028")}@@harbor-ha waldump timeline 1
rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/03000028, prev 0/02000140, desc: CHECKPOINT_SHUTDOWN redo 0/3000028
pg_waldump: error: error in WAL record at 0/3000028: invalid record length at 0/30000A0: wanted 24, got 0
`;
    const end = parseWalEndOutput(clean);
    assert.equal(end?.clusterState, "shut down");
    assert.equal(end?.lastLsn, "0/30000A0");
  });

  test("the timeline pg_waldump read on wins over the checkpoint's (a promotion not yet checkpointed)", () => {
    const promoted = AFTER_CRASH.replace("waldump timeline 1", "waldump timeline 2");
    assert.equal(parseWalEndOutput(promoted)?.timeline, 2);
  });

  test("without pg_waldump's answer, the last checkpoint is all there is, and it says so", () => {
    const end = parseWalEndOutput(`${control("shut down", "0/3000028")}@@harbor-ha waldump timeline 1\n`);
    assert.deepEqual(end, {
      clusterState: "shut down",
      timeline: 1,
      lastLsn: "0/3000028",
      lsnSource: "checkpoint",
    });
  });

  test("output that is not pg_controldata's is no reading", () => {
    assert.equal(parseWalEndOutput("pg_controldata: fatal: could not open file"), undefined);
  });

  test("an error without a position falls back to the end of the last record read", () => {
    const text = `rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/03000028, prev 0/02000140, desc: CHECKPOINT_SHUTDOWN
pg_waldump: error: could not find file "000000010000000000000004": No such file or directory`;
    // 0x3000028 + 114 rounded up to 8 bytes.
    assert.equal(parseWalEnd(text, SEGMENT), "0/30000A0");
  });

  test("a prev-link error names the position after its own LSN", () => {
    const text =
      "pg_waldump: error: error in WAL record at 0/3000028: record with incorrect prev-link 0/0 at 0/30000A0";
    assert.equal(parseWalEnd(text, SEGMENT), "0/30000A0");
  });
});

describe("WAL positions", () => {
  test("a segment file name and an offset are an LSN", () => {
    assert.equal(segmentPosition("000000010000000000000008", 0, SEGMENT), 0x8000000n);
    assert.equal(formatLsn(segmentPosition("0000000200000001000000FF", 16, SEGMENT) ?? 0n), "1/FF000010");
    assert.equal(segmentPosition("not-a-segment", 0, SEGMENT), undefined);
  });

  test("the newest timeline is the highest history file's; none is 0", () => {
    assert.equal(
      highestHistoryTimeline([
        "000000010000000000000003",
        "00000002.history",
        "0000000A.history",
        "archive_status",
      ]),
      10,
    );
    assert.equal(highestHistoryTimeline(["000000010000000000000003"]), 0);
  });
});
