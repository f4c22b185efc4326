import { readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { harborVersionTag } from "../jobs/deploy/harbor-layout.ts";
import { type TarEntry, tarArchive } from "../jobs/deploy/harbor-tar.ts";
import { ensureDirs, fingerprint, readTextIfExists } from "./files.ts";
import { NODE_IMAGE_RECIPE } from "./image.ts";
import type { LabPaths } from "./paths.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/**
 * The lab's Harbor "offline installer" (DESIGN.md §6): Harbor's images cannot be pulled here, so
 * the bundle has Harbor's layout (install.sh, prepare, harbor.yml.tmpl) and services made of
 * what the node image has: Debian's distribution registry and a small core (harbor-standin/,
 * bundled by esbuild with pg and ioredis into one file Debian's nodejs 18 runs).
 */

export const STANDIN_DIR = fileURLToPath(new URL("../harbor-standin/", import.meta.url));
const PACKAGE_LOCK = fileURLToPath(new URL("../package-lock.json", import.meta.url));
/** Debian bookworm's nodejs, which runs the core and prepare inside the node image. */
const NODE_TARGET = "node18";

export function harborBundleFile(paths: Pick<LabPaths, "root">, version: string): string {
  return join(paths.root, "harbor", `harbor-offline-installer-${harborVersionTag(version)}.tgz`);
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Everything that shapes the bundle: its sources, the locked dependency versions, version and image. */
async function sourcesFingerprint(version: string, image: string): Promise<string> {
  const files = await sourceFiles(STANDIN_DIR);
  const parts = [version, image, NODE_TARGET, await readFile(PACKAGE_LOCK, "utf8")];
  for (const file of files) parts.push(relative(STANDIN_DIR, file), await readFile(file, "utf8"));
  return fingerprint(...parts);
}

async function bundleScript(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(STANDIN_DIR, entry)],
    bundle: true,
    platform: "node",
    target: NODE_TARGET,
    format: "cjs",
    write: false,
    legalComments: "none",
    // pg loads these only when asked to (native bindings, Cloudflare sockets); neither is used.
    external: ["pg-native", "pg-cloudflare", "cloudflare:sockets"],
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}

/** The bundle's entries, all under `harbor/` as in Harbor's own offline installer. */
export async function harborBundleEntries(version: string, image: string): Promise<TarEntry[]> {
  const installer = (name: string) => readFile(join(STANDIN_DIR, "installer", name), "utf8");
  return [
    { path: "harbor/" },
    { path: "harbor/VERSION", content: `${harborVersionTag(version)}\n` },
    { path: "harbor/harbor.yml.tmpl", content: await installer("harbor.yml.tmpl") },
    { path: "harbor/install.sh", content: await installer("install.sh"), mode: 0o755 },
    { path: "harbor/prepare", content: await installer("prepare"), mode: 0o755 },
    { path: "harbor/standin/" },
    { path: "harbor/standin/image", content: `${image}\n` },
    { path: "harbor/standin/harbor-core.cjs", content: await bundleScript("core/main.ts") },
    { path: "harbor/standin/prepare.cjs", content: await bundleScript("prepare/main.ts") },
  ];
}

/**
 * Builds `harbor-offline-installer-v<version>.tgz` where the lab's site config names it, unless
 * the one there was built from the same sources (a fingerprint file beside it says which).
 */
export async function ensureHarborBundle(
  paths: Pick<LabPaths, "root">,
  version: string,
  image: string = NODE_IMAGE_RECIPE.tag,
): Promise<StepResult> {
  const file = harborBundleFile(paths, version);
  const stampFile = `${file}.sources`;
  const wanted = await sourcesFingerprint(version, image);
  const present = await stat(file).then(
    () => true,
    () => false,
  );
  if (present && (await readTextIfExists(stampFile))?.trim() === wanted) return unchanged(file);

  const started = performance.now();
  const archive = gzipSync(tarArchive(await harborBundleEntries(version, image)), { level: 9 });
  await ensureDirs([join(paths.root, "harbor")], 0o755);
  await writeFile(`${file}.tmp`, archive, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  await writeFile(stampFile, `${wanted}\n`, { mode: 0o644 });
  const kib = Math.round(archive.length / 1024);
  const ms = Math.round(performance.now() - started);
  return changed(`built ${file} (${kib} KiB) in ${ms} ms`);
}
