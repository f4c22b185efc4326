import { pad, seconds, times } from "./format.ts";
import type { BenchResults, Ratio, SeriesResult, Spread } from "./results.ts";
import { FAULT_TITLES } from "./system.ts";

function triple(value: Spread | null): string {
  return value ? `${seconds(value.p50)}/${seconds(value.p95)}/${seconds(value.max)}` : "-";
}

const COLUMNS: [title: string, width: number][] = [
  ["system", 24],
  ["repl", 5],
  ["fault", 16],
  ["runs", 5],
  ["detected", 16],
  ["fenced", 16],
  ["promoted", 16],
  ["VIP moved", 16],
  ["writable p50", 13],
  ["p95", 7],
  ["max", 7],
  ["lost/acked", 11],
];

function row(cells: string[]): string {
  return cells.map((cell, i) => pad(cell, COLUMNS[i]?.[1] ?? 8, i >= 8)).join(" ");
}

function seriesRow(s: SeriesResult): string {
  if (s.skipped) return row([s.system, s.replication, s.fault, "0", `n/a: ${s.skipped}`]);
  const censored = s.timeouts > 0 ? ">" : "";
  return row([
    s.system,
    s.replication,
    s.fault,
    `${s.runs}${s.timeouts ? `(${s.timeouts}!)` : ""}`,
    triple(s.milestones.detected),
    triple(s.milestones.fenced),
    triple(s.milestones.promoted),
    triple(s.milestones.vipMoved),
    seconds(s.p50),
    seconds(s.p95),
    `${censored}${seconds(s.max)}`,
    `${s.writesLost}/${s.writesAcked}`,
  ]);
}

/** The printed report: failover table, ratios, chat and resources. Pure. */
export function renderReport(results: BenchResults): string {
  const lines: string[] = [];
  lines.push(
    `Failover: seconds after the fault (p50/p95/max); "writable" is the first acknowledged write through the VIP.`,
  );
  lines.push(
    `Faults: ${Object.entries(FAULT_TITLES)
      .map(([k, v]) => `${k} = ${v}`)
      .join("; ")}.`,
  );
  lines.push(row(COLUMNS.map(([title]) => title)));
  lines.push("-".repeat(COLUMNS.reduce((sum, [, w]) => sum + w + 1, 0)));
  for (const s of results.failover) lines.push(seriesRow(s));
  if (results.failover.some((s) => s.timeouts > 0)) {
    lines.push(
      "(N!) runs that were not writable within the time limit: counted at the limit, max shown as >.",
    );
  }
  lines.push("");
  lines.push("Ours (asynchronous) as a ratio of each baseline (below 1 is faster):");
  for (const r of results.ratios) {
    const [ours, theirs] = pairOf(results, r);
    lines.push(
      `  ${pad(r.fault, 16)} vs ${pad(r.baseline, 24)} p50 ${seconds(ours?.p50)} s vs ${seconds(theirs?.p50)} s (${times(r.p50)})` +
        `   p95 ${seconds(ours?.p95)} s vs ${seconds(theirs?.p95)} s (${times(r.p95)})`,
    );
  }
  if (results.chat) {
    const c = results.chat;
    lines.push("");
    lines.push(
      `ChatOps: ack p50 ${c.ackP50Ms.toFixed(2)} ms, p99 ${c.ackP99Ms.toFixed(2)} ms over ${c.commands} slash commands; ` +
        `/harbor status end to end p95 ${c.statusP95Ms.toFixed(0)} ms over ${c.statusAnswers}; ` +
        `messages per incident ${c.messagesPerIncident === null ? "-" : c.messagesPerIncident.toFixed(1)}`,
    );
  }
  if (results.resources.length > 0) {
    lines.push(
      `Resources (idle): ${results.resources
        .map((r) => `${r.name} ${r.rssMb.toFixed(0)} MB RSS, ${r.idleCpuPercent.toFixed(2)} % CPU`)
        .join("; ")}`,
    );
  }
  for (const note of results.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}

/** The README's table of the latest run. Pure. */
export function renderMarkdown(results: BenchResults): string {
  const lines = [
    `Latest run: ${results.generatedAt}, ${results.quick ? "`--quick`, " : ""}${results.runsPerFault} runs per fault, ${Math.round(results.wallSeconds / 60)} min. Seconds from the fault; writable = first acknowledged write through the VIP.`,
    "",
    "| system | replication | fault | runs | detected p50 | fenced p50 | promoted p50 | VIP moved p50 | writable p50 | p95 | max | writes lost |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const s of results.failover) {
    if (s.skipped) {
      lines.push(`| ${s.system} | ${s.replication} | ${s.fault} | 0 | n/a: ${s.skipped} | | | | | | | |`);
      continue;
    }
    const m = s.milestones;
    lines.push(
      `| ${s.system} | ${s.replication} | ${s.fault} | ${s.runs}${s.timeouts ? ` (${s.timeouts} timed out)` : ""} | ${seconds(m.detected?.p50)} | ${seconds(m.fenced?.p50)} | ${seconds(m.promoted?.p50)} | ${seconds(m.vipMoved?.p50)} | ${seconds(s.p50)} | ${seconds(s.p95)} | ${s.timeouts ? ">" : ""}${seconds(s.max)} | ${s.writesLost} of ${s.writesAcked} |`,
    );
  }
  lines.push("");
  for (const r of results.ratios) {
    const [ours, theirs] = pairOf(results, r);
    lines.push(
      `- ${r.fault}: harbor-ha p50 ${seconds(ours?.p50)} s / p95 ${seconds(ours?.p95)} s against ${r.baseline}'s ${seconds(theirs?.p50)} s / ${seconds(theirs?.p95)} s: ${times(r.p50)} and ${times(r.p95)} of its time`,
    );
  }
  if (results.chat) {
    const c = results.chat;
    lines.push(
      `- ChatOps: ack p50 ${c.ackP50Ms.toFixed(2)} ms, p99 ${c.ackP99Ms.toFixed(2)} ms (${c.commands} commands); \`/harbor status\` p95 ${c.statusP95Ms.toFixed(0)} ms; ${c.messagesPerIncident === null ? "-" : c.messagesPerIncident.toFixed(1)} messages per incident`,
    );
  }
  if (results.resources.length > 0) {
    lines.push(
      `- Idle: ${results.resources.map((r) => `${r.name} ${r.rssMb.toFixed(0)} MB RSS, ${r.idleCpuPercent.toFixed(2)} % CPU`).join("; ")}`,
    );
  }
  lines.push("", "![failover times](bench/results/latest.svg)");
  return lines.join("\n");
}

/** Our asynchronous series and the baseline's behind a ratio, to print their figures beside it. */
function pairOf(results: BenchResults, r: Ratio): [SeriesResult | undefined, SeriesResult | undefined] {
  const find = (system: (s: SeriesResult) => boolean) =>
    results.failover.find((s) => s.fault === r.fault && s.replication === "async" && system(s));
  return [find((s) => s.system === "harbor-ha"), find((s) => s.system === r.baseline)];
}
