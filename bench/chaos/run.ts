// `npm run chaos [-- --seed N] [--faults N]`: a seeded, bounded schedule of faults on the lab
// (bench/chaos/chaos.ts). Exits 1 on any split brain or acknowledged write lost (synchronous
// replication), or when a fault did not settle. Root needed; the lab always comes down.
import { chaosTable, runChaos } from "./chaos.ts";

function option(flag: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(flag);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    process.stderr.write(`chaos: ${flag} must be an integer from 0 to ${max}\n`);
    process.exit(2);
  }
  return value;
}

if (process.getuid?.() !== 0) {
  process.stderr.write("chaos: needs root (the lab's namespaces and daemons)\n");
  process.exit(2);
}
const seed = option("--seed", 1, 2 ** 32 - 1);
const faults = option("--faults", 50, 500);
const say = (line: string) => process.stdout.write(`${line}\n`);
const report = await runChaos({ seed, faults, log: say });
say("");
say(chaosTable(report));
const unsettled = report.outcomes.filter((o) => !o.resolved).length;
const failed = report.splitBrain.length > 0 || report.writesLost > 0 || unsettled > 0;
say(failed ? "chaos: FAILED" : "chaos: passed: no split brain, no acknowledged write lost");
process.exit(failed ? 1 : 0);
