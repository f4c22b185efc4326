import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { failoverChart } from "./chart.ts";
import type { BenchResults } from "./results.ts";
import { renderMarkdown } from "./table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const RESULTS_DIR = join(ROOT, "bench", "results");
const README = join(ROOT, "README.md");
const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

/**
 * The run's JSON (timestamped, and as latest.json), the chart (latest.svg), and the README's
 * table between its markers, so the README always shows the latest run.
 */
export function writeReports(results: BenchResults): { json: string; svg: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.generatedAt.replace(/[:.]/g, "-");
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const json = join(RESULTS_DIR, `bench-${stamp}.json`);
  writeFileSync(json, text);
  writeFileSync(join(RESULTS_DIR, "latest.json"), text);
  const svg = join(RESULTS_DIR, "latest.svg");
  writeFileSync(
    svg,
    failoverChart(
      results.failover,
      `Failover: fault -> writable through the VIP (${results.quick ? "quick, " : ""}${results.runsPerFault} runs per fault)`,
    ),
  );
  if (existsSync(README)) {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    if (start >= 0 && end > start) {
      const block = `${START}\n${renderMarkdown(results)}\n${END}`;
      writeFileSync(README, readme.slice(0, start) + block + readme.slice(end + END.length));
    }
  }
  return { json, svg };
}
