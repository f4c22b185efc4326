/**
 * The lab's Harbor stand-in bundle: Harbor's offline-installer layout, built once per set of
 * sources. Writes only under a temporary folder (esbuild runs in-process, no network).
 * Run with: node --import tsx --test test/unit/harbor-bundle.test.ts
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { ensureHarborBundle, harborBundleFile } from "../../lab/harbor-bundle.ts";

const execFileAsync = promisify(execFile);
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "harbor-bundle-test-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("the bundle is named like Harbor's and holds install.sh, prepare, harbor.yml.tmpl and the stand-in", async () => {
  const built = await ensureHarborBundle({ root }, "2.2.2", "harbor-ha/node:test");
  assert.equal(built.changed, true);
  const file = harborBundleFile({ root }, "2.2.2");
  assert.equal(file, join(root, "harbor", "harbor-offline-installer-v2.2.2.tgz"));
  const { stdout } = await execFileAsync("tar", ["-tvzf", file]);
  const entries = stdout
    .trim()
    .split("\n")
    .map((line) => {
      const fields = line.split(/\s+/);
      return `${fields[0]} ${fields[fields.length - 1]}`;
    });
  assert.deepEqual(entries, [
    "drwxr-xr-x harbor/",
    "-rw-r--r-- harbor/VERSION",
    "-rw-r--r-- harbor/harbor.yml.tmpl",
    "-rwxr-xr-x harbor/install.sh",
    "-rwxr-xr-x harbor/prepare",
    "drwxr-xr-x harbor/standin/",
    "-rw-r--r-- harbor/standin/image",
    "-rw-r--r-- harbor/standin/harbor-core.cjs",
    "-rw-r--r-- harbor/standin/prepare.cjs",
  ]);
  const image = await execFileAsync("tar", ["-xOzf", file, "harbor/standin/image", "harbor/VERSION"]);
  assert.equal(image.stdout, "v2.2.2\nharbor-ha/node:test\n", "archive order: VERSION, then standin/image");
});

test("a second build from the same sources changes nothing; another version or image is another bundle", async () => {
  const file = harborBundleFile({ root }, "2.2.2");
  const before = (await stat(file)).mtimeMs;
  const again = await ensureHarborBundle({ root }, "2.2.2", "harbor-ha/node:test");
  assert.deepEqual(again, { changed: false, detail: file });
  assert.equal((await stat(file)).mtimeMs, before);
  assert.equal((await ensureHarborBundle({ root }, "2.2.2", "harbor-ha/node:other")).changed, true);
  assert.equal((await ensureHarborBundle({ root }, "2.3.0", "harbor-ha/node:test")).changed, true);
});
