/**
 * The audit stream's hash chain (jobs/audit-chain.ts), checked on rows as Redis returns them.
 * Run with: node --import tsx --test test/unit/audit-chain.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import {
  type ChainBreakKind,
  chainedFields,
  chainKey,
  chainKeyOf,
  checkAuditChain,
  describeChain,
  type EntryFields,
  KEY_ROTATION_ACTION,
  keyRotationDetail,
  NO_PREVIOUS,
  nextStreamId,
  type StreamFacts,
  type StreamRow,
  UNCHAINED_PREVIOUS,
} from "../../jobs/audit-chain.ts";

const siteKey = siteKeyFromText(renderSiteKey(), "test");
const key = chainKey(siteKey);
const SITE = "lab";
const retention = { maxEntries: 1_000, maxAgeDays: 30 };
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);

/** A stream as the AuditLog writes it: each entry chained to the one before, `count` of them. */
function chainedStream(count: number, options: { after?: StreamRow; startMs?: number } = {}): StreamRow[] {
  const rows: StreamRow[] = [];
  let prev = options.after?.[0] ?? "0-0";
  let prevHash = options.after ? UNCHAINED_PREVIOUS : NO_PREVIOUS;
  for (let i = 0; i < count; i++) {
    const id = nextStreamId(prev, (options.startMs ?? T0) + i * 1_000);
    const fields: EntryFields = {
      actor: "U0ALICE",
      action: `/harbor status ${i}`,
      outcome: "ok",
      where: "C0OPS",
    };
    const flat = chainedFields(key, SITE, { id, prev, prevHash }, fields);
    rows.push([id, flat]);
    prev = id;
    prevHash = flat[flat.length - 1] ?? "";
  }
  return rows;
}

function factsOf(rows: readonly StreamRow[], overrides: Partial<StreamFacts> = {}): StreamFacts {
  return { lastGeneratedId: rows[rows.length - 1]?.[0] ?? "0-0", maxDeletedId: "0-0", ...overrides };
}

function check(rows: readonly StreamRow[], facts = factsOf(rows), limits = retention) {
  return checkAuditChain([chainKeyOf(siteKey)], SITE, rows, facts, limits);
}

function kinds(rows: readonly StreamRow[], facts?: StreamFacts): ChainBreakKind[] {
  return check(rows, facts).breaks.map((b) => b.kind);
}

/** The row with one field's value replaced. */
function withField(row: StreamRow, name: string, value: string): StreamRow {
  const fields = [...row[1]];
  fields[fields.indexOf(name) + 1] = value;
  return [row[0], fields];
}

describe("the audit chain", () => {
  test("a whole chain verifies, with its first and last ids", () => {
    const rows = chainedStream(5);
    const report = check(rows);
    assert.deepEqual(report.breaks, []);
    assert.equal(report.chained, 5);
    assert.equal(report.first, rows[0]?.[0]);
    assert.equal(report.last, rows[4]?.[0]);
    assert.match(
      describeChain(SITE, report)[0] ?? "",
      /^audit chain of lab verified: 5 chained entries from /,
    );
  });

  test("an entry deleted in the middle (XDEL) breaks the chain after the entry before it", () => {
    const rows = chainedStream(5);
    const kept = [rows[0], rows[1], rows[3], rows[4]] as StreamRow[];
    const report = check(kept, factsOf(rows, { maxDeletedId: rows[2]?.[0] ?? "" }));
    assert.deepEqual(
      report.breaks.map((b) => [b.kind, b.id]),
      [["deleted", rows[1]?.[0]]],
    );
    assert.match(
      report.breaks[0]?.text ?? "",
      new RegExp(
        `entries were deleted after ${rows[1]?.[0]}: the next entry ${rows[3]?.[0]} follows ${rows[2]?.[0]}, which is gone`,
      ),
    );
    assert.match(describeChain(SITE, report)[0] ?? "", /BROKEN: 1 break in 4 entries/);
  });

  test("an entry whose field was changed no longer matches its hash", () => {
    const rows = chainedStream(4);
    rows[1] = withField(rows[1] as StreamRow, "outcome", "refused");
    const report = check(rows);
    assert.deepEqual(
      report.breaks.map((b) => [b.kind, b.id]),
      [["changed", rows[1]?.[0]]],
    );
    assert.match(report.breaks[0]?.text ?? "", /does not match its hash: its fields were changed/);
  });

  test("a changed entry with its hash made again (without the key) is still caught, by the next link", () => {
    const rows = chainedStream(3);
    rows[1] = withField(withField(rows[1] as StreamRow, "actor", "U0MALLORY"), "hash", "0".repeat(64));
    assert.deepEqual(kinds(rows), ["changed", "changed"]);
  });

  test("an entry XADDed without the key, plain or with made-up chain fields, is a break", () => {
    const rows = chainedStream(3);
    const last = rows[2] as StreamRow;
    const plain: StreamRow = [
      nextStreamId(last[0], T0 + 60_000),
      ["actor", "U0MALLORY", "action", "approve", "outcome", "ok"],
    ];
    assert.deepEqual(kinds([...rows, plain]), ["unsigned"]);
    assert.match(
      check([...rows, plain]).breaks[0]?.text ?? "",
      /carries no chain fields: it was added without the site key/,
    );
    const forged: StreamRow = [
      nextStreamId(last[0], T0 + 60_000),
      [
        "actor",
        "U0MALLORY",
        "action",
        "approve",
        "outcome",
        "ok",
        "prev",
        last[0],
        "prevHash",
        "x",
        "hash",
        "f".repeat(64),
      ],
    ];
    assert.deepEqual(kinds([...rows, forged]), ["changed", "changed"]);
  });

  test("a trimmed head is not a break, by size or by age", () => {
    const rows = chainedStream(30);
    const bySize = check(rows.slice(10), factsOf(rows), { maxEntries: 20, maxAgeDays: 365 });
    assert.deepEqual(bySize.breaks, []);
    assert.equal(bySize.trimmedBefore, rows[9]?.[0]);
    assert.match(describeChain(SITE, bySize).join("\n"), /older entries trimmed by retention/);
    // Two old entries, then a month later the rest: an age limit of a week explains the cut.
    const old = chainedStream(2);
    const linked = relink([...old, ...chainedStream(3, { startMs: T0 + 30 * DAY })]);
    assert.deepEqual(
      check(linked.slice(2), factsOf(linked), { maxEntries: 1_000, maxAgeDays: 7 }).breaks,
      [],
    );
  });

  test("a head cut that retention does not explain is a break, and so is a head deleted with XDEL", () => {
    const rows = chainedStream(10);
    assert.deepEqual(kinds(rows.slice(3)), ["head-cut"]);
    const first = rows[0]?.[0] ?? "";
    const report = check(rows.slice(1), factsOf(rows, { maxDeletedId: first }), {
      maxEntries: 5,
      maxAgeDays: 30,
    });
    assert.deepEqual(
      report.breaks.map((b) => [b.kind, b.id]),
      [["deleted", first]],
    );
  });

  test("the newest entries deleted show against the stream's last-generated id", () => {
    const rows = chainedStream(4);
    assert.deepEqual(kinds(rows.slice(0, 3), factsOf(rows)), ["tail-deleted"]);
  });

  test("entries from before the chain are unchained at the start, not a break", () => {
    const legacy: StreamRow[] = [
      [`${T0 - 2_000}-0`, ["actor", "U0BOB", "action", "/harbor status", "outcome", "ok"]],
      [`${T0 - 1_000}-0`, ["actor", "U0BOB", "action", "/harbor deploy", "outcome", "ok"]],
    ];
    const rows = [...legacy, ...chainedStream(3, { after: legacy[1] })];
    const report = check(rows);
    assert.deepEqual(report.breaks, []);
    assert.equal(report.unchained, 2);
    assert.equal(report.chained, 3);
    assert.match(describeChain(SITE, report).join("\n"), /2 unchained entries at the start/);
  });

  test("the next id is now, or one past the last id when the clock is behind it", () => {
    assert.equal(nextStreamId("0-0", 1_700), "1700-0");
    assert.equal(nextStreamId("1700-0", 1_800), "1800-0");
    assert.equal(nextStreamId("1800-4", 1_700), "1800-5");
  });
});

/** The rows chained again in order (their ids kept), as one writer would have made them. */
function relink(rows: readonly StreamRow[]): StreamRow[] {
  let prev = "0-0";
  let prevHash = NO_PREVIOUS;
  return rows.map(([id, raw]) => {
    const values: Record<string, string> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) values[raw[i] ?? ""] = raw[i + 1] ?? "";
    const flat = chainedFields(key, SITE, { id, prev, prevHash }, values);
    prev = id;
    prevHash = flat[flat.length - 1] ?? "";
    return [id, flat];
  });
}

describe("the chain across a rotation of the site key", () => {
  const oldKey = siteKeyFromText(renderSiteKey(), "old");
  const newKey = siteKeyFromText(renderSiteKey(), "new");

  /** Appends entries chained with `with`, as the AuditLog holding that key would. */
  function appendWith(rows: StreamRow[], withKey: typeof oldKey, entries: EntryFields[]): StreamRow[] {
    const out = [...rows];
    for (const fields of entries) {
      const last = out[out.length - 1];
      const prev = last?.[0] ?? "0-0";
      const prevHash = last ? (last[1][last[1].length - 1] ?? "") : NO_PREVIOUS;
      const id = nextStreamId(prev, T0 + out.length * 1_000);
      out.push([id, chainedFields(chainKey(withKey), SITE, { id, prev, prevHash }, fields)]);
    }
    return out;
  }
  const status = (i: number): EntryFields => ({
    actor: "U0ALICE",
    action: `/harbor status ${i}`,
    outcome: "ok",
  });
  const rotation = (to: string): EntryFields => ({
    actor: "cli:root",
    action: KEY_ROTATION_ACTION,
    outcome: "ok",
    detail: keyRotationDetail(oldKey.fingerprint, to),
  });
  const verify = (rows: StreamRow[], keys: Array<typeof oldKey>) =>
    checkAuditChain(keys.map(chainKeyOf), SITE, rows, factsOf(rows), retention);

  const before = appendWith([], oldKey, [status(1), status(2)]);
  const rotated = appendWith(before, oldKey, [rotation(newKey.fingerprint)]);
  const after = appendWith(rotated, newKey, [status(3), status(4)]);

  test("old entries with the kept previous key, new ones with the current key: whole", () => {
    const report = verify(after, [oldKey, newKey]);
    assert.deepEqual(report.breaks, []);
    assert.equal(report.chained, 5);
  });

  test("without the previous key the entries before the rotation cannot be verified", () => {
    const report = verify(after, [newKey]);
    assert.deepEqual(
      report.breaks.map((b) => b.kind),
      ["changed", "changed", "changed"],
    );
    assert.deepEqual(
      report.breaks.map((b) => b.id),
      after.slice(0, 3).map(([id]) => id),
    );
  });

  test("after the rotation the old key no longer makes entries that verify", () => {
    const stolen = appendWith(rotated, oldKey, [status(3)]);
    const report = verify(stolen, [oldKey, newKey]);
    assert.deepEqual(
      report.breaks.map((b) => [b.kind, b.id]),
      [["changed", stolen[3]?.[0]]],
    );
  });

  test("a rotation to a key nobody kept says so, and the entries after it are checked with what is known", () => {
    const lost = siteKeyFromText(renderSiteKey(), "lost");
    const rows = appendWith(appendWith(before, oldKey, [rotation(lost.fingerprint)]), lost, [status(3)]);
    const report = verify(rows, [oldKey, newKey]);
    assert.deepEqual(
      report.breaks.map((b) => b.kind),
      ["unknown-key", "changed"],
    );
    assert.match(report.breaks[0]?.text ?? "", new RegExp(`rotated the site key to ${lost.fingerprint}`));
  });

  test("a rotation entry forged without the old key hands over to nothing", () => {
    const attacker = siteKeyFromText(renderSiteKey(), "attacker");
    const forged = appendWith(before, attacker, [rotation(attacker.fingerprint)]);
    const rows = appendWith(forged, attacker, [status(3)]);
    const report = verify(rows, [oldKey, newKey]);
    assert.deepEqual(
      report.breaks.map((b) => b.kind),
      ["changed", "changed"],
    );
  });
});
