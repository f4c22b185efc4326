import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isRecoveryState, parseControlData } from "../../jobs/deploy/postgres-controldata.ts";

/** The head and tail of pg_controldata of PostgreSQL 15 in the lab (a standby). */
const STANDBY = `pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7712164519578931217
Database cluster state:               in archive recovery
pg_control last modified:             Wed Nov 25 17:37:33 2026
Latest checkpoint location:           0/2000060
Latest checkpoint's REDO location:    0/2000028
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
Latest checkpoint's oldestCommitTsXid:0
Time of latest checkpoint:            Wed Nov 25 17:37:33 2026
wal_level setting:                    replica
wal_log_hints setting:                on
Data page checksum version:           1
Mock authentication nonce:            cd064cee484714a359276b1d2a3b8e1902dc7e5bda38f0a9fce3f15d8d7c36e5
`;

describe("pg_controldata", () => {
  test("reads the system identifier, the cluster state, the timeline and the checksums", () => {
    assert.deepEqual(parseControlData(STANDBY), {
      systemIdentifier: "7712164519578931217",
      clusterState: "in archive recovery",
      timeline: 1,
      checksumsEnabled: true,
    });
  });

  test("a primary is in production; checksums off reads as such", () => {
    const primary = STANDBY.replace("in archive recovery", "in production").replace(
      "checksum version:           1",
      "checksum version:           0",
    );
    const parsed = parseControlData(primary);
    assert.equal(parsed?.clusterState, "in production");
    assert.equal(parsed?.checksumsEnabled, false);
  });

  test("an error message is not a report", () => {
    assert.equal(
      parseControlData('pg_controldata: error: could not open file "global/pg_control"'),
      undefined,
    );
    assert.equal(parseControlData(""), undefined);
  });

  test("archive recovery and a shut-down standby are recovery states; production and shut down are not", () => {
    assert.equal(isRecoveryState("in archive recovery"), true);
    assert.equal(isRecoveryState("shut down in recovery"), true);
    assert.equal(isRecoveryState("in production"), false);
    assert.equal(isRecoveryState("shut down"), false);
  });
});
