import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ControlData } from "../../jobs/deploy/postgres-controldata.ts";
import {
  clusterCreatedAt,
  type DataFolderState,
  decidePrimary,
  decideStandby,
  type StandbyInputs,
} from "../../jobs/deploy/postgres-data-decision.ts";

const PATH = "/var/lib/harbor-ha/postgres";
const SITE_SYSTEM = "7712164519578931217";
const OTHER_SYSTEM = "7712165576798527503";

function folder(overrides: Partial<DataFolderState> = {}): DataFolderState {
  return {
    path: PATH,
    exists: true,
    entries: 24,
    hasCluster: true,
    hasVersionFile: true,
    standbySignal: false,
    backupLabel: false,
    ...overrides,
  };
}
const missingFolder = () => folder({ exists: false, entries: 0, hasCluster: false, hasVersionFile: false });
const emptyFolder = () => folder({ entries: 0, hasCluster: false, hasVersionFile: false });
const strangerFolder = () => folder({ entries: 3, hasCluster: false, hasVersionFile: false });
const standbyFolder = () => folder({ standbySignal: true });
const runningPrimary = { inRecovery: false, systemIdentifier: SITE_SYSTEM };
const runningStandby = { inRecovery: true, systemIdentifier: SITE_SYSTEM };
const control = (clusterState: string, systemIdentifier = SITE_SYSTEM): ControlData => ({
  systemIdentifier,
  clusterState,
  timeline: 1,
  checksumsEnabled: true,
});
const onNode02 = (inputs: Partial<StandbyInputs>): StandbyInputs => ({
  node: "node02",
  primaryNode: "node01",
  folder: folder(),
  primarySystemIdentifier: SITE_SYSTEM,
  ...inputs,
});

describe("the primary's data folder", () => {
  test("an empty or missing folder gets a new cluster", () => {
    assert.equal(decidePrimary("node01", emptyFolder()).kind, "initdb");
    assert.equal(decidePrimary("node01", missingFolder()).kind, "initdb");
  });

  test("a running primary, or a stopped cluster, is used as it is", () => {
    assert.equal(decidePrimary("node01", folder(), runningPrimary).kind, "use");
    assert.equal(decidePrimary("node01", folder()).kind, "use");
  });

  test("a running standby is refused: the primary step never promotes", () => {
    const decision = decidePrimary("node02", standbyFolder(), runningStandby);
    assert.equal(decision.kind, "refuse");
    assert.ok(decision.kind === "refuse");
    assert.match(decision.reason, /node02's PostgreSQL runs as a standby \(in recovery\)/);
    assert.match(decision.hint, /never promotes/);
  });

  test("a stopped standby's folder is refused too", () => {
    const decision = decidePrimary("node02", standbyFolder());
    assert.equal(decision.kind, "refuse");
    assert.match(decision.kind === "refuse" ? decision.reason : "", /standby\.signal/);
  });

  test("a folder with someone else's files is refused, never initialised over", () => {
    const decision = decidePrimary("node01", strangerFolder());
    assert.equal(decision.kind, "refuse");
    assert.match(decision.kind === "refuse" ? decision.hint : "", /move the folder's contents aside/);
  });

  test("a base backup that never started is not taken for the site's primary", () => {
    assert.equal(decidePrimary("node01", folder({ backupLabel: true })).kind, "refuse");
  });
});

describe("the standby's data folder", () => {
  test("an empty or missing folder is cloned", () => {
    assert.equal(decideStandby(onNode02({ folder: emptyFolder() })).kind, "clone");
    assert.equal(
      decideStandby(onNode02({ folder: missingFolder(), primarySystemIdentifier: undefined })).kind,
      "clone",
    );
  });

  test("a running standby of the primary's cluster is kept", () => {
    assert.equal(decideStandby(onNode02({ folder: standbyFolder(), live: runningStandby })).kind, "keep");
  });

  test("a stopped standby of the primary's cluster is kept, by standby.signal or by its state", () => {
    assert.equal(
      decideStandby(onNode02({ folder: standbyFolder(), control: control("shut down in recovery") })).kind,
      "keep",
    );
    assert.equal(decideStandby(onNode02({ control: control("shut down in recovery") })).kind, "keep");
  });

  test("a running PRIMARY is never wiped, whatever its system", () => {
    for (const live of [runningPrimary, { inRecovery: false, systemIdentifier: OTHER_SYSTEM }]) {
      const decision = decideStandby(onNode02({ live }));
      assert.equal(decision.kind, "refuse");
      assert.ok(decision.kind === "refuse");
      assert.match(decision.reason, /runs as a primary .* never wiped/);
      assert.match(decision.hint, /harbor-ha rejoin node02/);
    }
  });

  test("a stopped cluster that is not a standby (an old primary) is never wiped", () => {
    for (const state of ["shut down", "in production"]) {
      const decision = decideStandby(onNode02({ control: control(state, OTHER_SYSTEM) }));
      assert.equal(decision.kind, "refuse", state);
      assert.match(decision.kind === "refuse" ? decision.reason : "", /not a standby/);
    }
  });

  test("a standby of another cluster is a copy: it is wiped and cloned", () => {
    const decision = decideStandby(
      onNode02({ folder: standbyFolder(), control: control("shut down in recovery", OTHER_SYSTEM) }),
    );
    assert.equal(decision.kind, "wipe-and-clone");
    assert.match(decision.kind === "wipe-and-clone" ? decision.reason : "", /another cluster/);
    const running = decideStandby(
      onNode02({ folder: standbyFolder(), live: { inRecovery: true, systemIdentifier: OTHER_SYSTEM } }),
    );
    assert.equal(running.kind, "wipe-and-clone");
  });

  test("a standby of a cluster older than the primary's is never wiped: the primary may be a fresh initdb beside the only good copy", () => {
    // Made 1000 s before the site's primary: initdb's time is the identifier's high 32 bits.
    const older = String(BigInt(SITE_SYSTEM) - (1000n << 32n));
    assert.equal((clusterCreatedAt(SITE_SYSTEM) ?? 0) - (clusterCreatedAt(older) ?? 0), 1000);
    for (const inputs of [
      { folder: standbyFolder(), control: control("shut down in recovery", older) },
      { folder: standbyFolder(), live: { inRecovery: true, systemIdentifier: older } },
    ]) {
      const decision = decideStandby(onNode02(inputs));
      assert.equal(decision.kind, "refuse");
      assert.match(decision.kind === "refuse" ? decision.reason : "", /made before node01's .* never wiped/);
      assert.match(decision.kind === "refuse" ? decision.hint : "", /harbor-ha failover --node node02/);
    }
  });

  test("a clone cut short (backup_label, no pg_control) is wiped and cloned again", () => {
    const cut = folder({ hasCluster: false, backupLabel: true, entries: 7 });
    assert.equal(decideStandby(onNode02({ folder: cut })).kind, "wipe-and-clone");
  });

  test("a folder with someone else's files is refused", () => {
    assert.equal(decideStandby(onNode02({ folder: strangerFolder() })).kind, "refuse");
  });

  test("without the primary's answer a standby is kept but not wiped, and says it was not compared", () => {
    const decision = decideStandby(
      onNode02({
        folder: standbyFolder(),
        control: control("shut down in recovery", OTHER_SYSTEM),
        primarySystemIdentifier: undefined,
      }),
    );
    assert.equal(decision.kind, "keep");
    assert.match(decision.kind === "keep" ? decision.reason : "", /not compared/);
  });
});
