import assert from "node:assert/strict";
import { test } from "node:test";
import { milestonesFromBotLog } from "../../bench/bot-log.ts";
import { failoverChart, logScale, logTicks } from "../../bench/chart.ts";
import { lostWrites } from "../../bench/lost-writes.ts";
import { parseOptions } from "../../bench/options.ts";
import { ANY_SERVER, writableAgainAt } from "../../bench/recovery.ts";
import { ratios, seriesResult } from "../../bench/results.ts";
import { serverName } from "../../bench/writer.ts";

const ack = (id: number, at: number, server: string) => ({ id, at, server });

test("an acknowledged write the survivor lacks is lost; an unacknowledged one is not counted", () => {
  assert.deepEqual(lostWrites([1, 2, 3, 4], [1, 2, 4, 5]), [3]);
  assert.deepEqual(lostWrites([], [1]), []);
});

test("writable again: the first write the new primary takes after the fault", () => {
  const acks = [ack(1, 90, "node01"), ack(2, 120, "node01"), ack(3, 400, "node02")];
  assert.equal(writableAgainAt(acks, [150], 100, "node02", "node01"), 400);
  assert.equal(writableAgainAt(acks.slice(0, 2), [150], 100, "node02", "node01"), undefined);
});

test("restarted in place: only a write after the outage counts", () => {
  const acks = [ack(1, 110, "node01"), ack(2, 900, "node01")];
  assert.equal(writableAgainAt(acks, [300, 400], 100, "node01", "node01"), 900);
  assert.equal(writableAgainAt(acks, [], 100, "node01", "node01"), undefined);
  assert.equal(writableAgainAt([...acks, ack(3, 950, "node02")], [300], 100, ANY_SERVER, "node01"), 900);
});

test("the controller's decision, fence and promote are read from the bot's log after the fault", () => {
  const at = Date.parse("2026-01-01T00:00:10.000Z");
  const line = (time: string, event: string, extra: object = {}) =>
    JSON.stringify({ time: `2026-01-01T00:00:${time}Z`, event, ...extra });
  const log = [
    line("05.000", "controller.decision"),
    line("11.200", "controller.decision"),
    line("11.300", "controller.action", { ok: false, action: { kind: "fence" } }),
    line("11.500", "controller.action", { ok: true, action: { kind: "fence" } }),
    line("11.900", "controller.action", { ok: true, action: { kind: "promote" } }),
    "not json",
  ];
  assert.deepEqual(milestonesFromBotLog(log, at), { detectedMs: 1200, fencedMs: 1500, promotedMs: 1900 });
});

test("the writer names the node from the data folder, else the cluster name", () => {
  assert.equal(serverName("bench", "/var/lib/harbor-ha-lab/disks/node02/bench-patroni/data"), "node02");
  assert.equal(serverName("node01", "/var/lib/postgresql/data"), "node01");
});

test("the chart's log scale maps decades evenly and clamps", () => {
  const x = logScale(100, 100_000, 0, 300);
  assert.equal(x(100), 0);
  assert.equal(x(1_000), 100);
  assert.equal(x(100_000), 300);
  assert.equal(x(1), 0);
  assert.deepEqual(logTicks(100, 1_000), [100, 200, 500, 1_000]);
});

test("the chart has a dot per run, hollow when the run timed out", () => {
  const sample = (ms: number, timedOut = false) => ({ writableMs: ms, timedOut, acked: 10, lost: 0 });
  const ours = seriesResult("harbor-ha", "async", "postgres-kill", [sample(1_500), sample(2_000)]);
  const theirs = seriesResult("runbook", "async", "postgres-kill", [sample(15_000), sample(90_000, true)]);
  const svg = failoverChart([ours, theirs], "t");
  assert.equal(svg.match(/<circle /g)?.length, 4);
  assert.equal(svg.match(/fill="none"/g)?.length, 1);
  const [ratio] = ratios([ours, theirs], "harbor-ha");
  assert.equal(ratio?.baseline, "runbook");
  assert.equal(ratio?.p50, 1_500 / 15_000);
});

test("--quick means 5 runs per fault, 20 otherwise; --runs and --only override", () => {
  assert.equal(parseOptions(["--quick"]).runs, 5);
  assert.equal(parseOptions([]).runs, 20);
  assert.equal(parseOptions(["--quick", "--runs", "2"]).runs, 2);
  assert.deepEqual(parseOptions(["--only", "ours,patroni"]).systems, ["ours", "patroni"]);
  assert.throws(() => parseOptions(["--only", "nope"]), /unknown nope/);
});
