// `npm test`: installs what the suite needs (Debian packages through apt-get, as root, saying so),
// then runs every test file with node's own test runner: unit, then integration, then lab tests.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePackages, TEST_PACKAGES } from "../lab/packages.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const LAYERS = ["unit", "integration", "lab"] as const;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".test.ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

const only = process.argv.slice(2).filter((arg) => (LAYERS as readonly string[]).includes(arg));
const layers = only.length > 0 ? only : [...LAYERS];
const files = layers.flatMap((layer) => testFiles(join(root, "test", layer)));

if (layers.some((layer) => layer !== "unit")) {
  if (process.getuid?.() !== 0) {
    console.error(
      "npm test: the integration and lab tests need root (network namespaces, apt-get); run as root",
    );
    process.exit(2);
  }
  console.log("npm test: checking system packages (apt-get installs any that are missing)");
  const packages = await ensurePackages(TEST_PACKAGES);
  console.log(`npm test: ${packages.detail}`);
}

console.log(`npm test: ${files.length} test files (${layers.join(", ")})`);
// Unit and integration tests touch only loopback and their own temporary files and ports: they
// run two files at a time (73 s instead of about 150 s on 2 cores). The lab tests go one file at
// a time: the lab owns fixed addresses, and 2 cores are better spent on one lab.
const inLab = (file: string) => file.startsWith(join("test", "lab"));
const runs = [
  { files: files.filter((file) => !inLab(file)), concurrency: availableParallelism() },
  { files: files.filter(inLab), concurrency: 1 },
].filter((run) => run.files.length > 0);
let status = 0;
for (const run of runs) {
  const result = spawnSync(
    process.execPath,
    [
      ...["--import", "tsx", "--test", `--test-concurrency=${run.concurrency}`, "--test-reporter=spec"],
      ...run.files,
    ],
    { cwd: root, stdio: "inherit" },
  );
  // Every layer runs even after a failure: one report names all that failed.
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
