import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readTextIfExists } from "../../../support/files.ts";
import type { HarborNodeLayout } from "../../deploy/harbor-layout.ts";

export { readTextIfExists };

/**
 * The file side of harbor.install on a node: the bundle's digest, unpacking it, writing files
 * only when they differ, running the bundle's prepare, and what was installed last.
 */

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A short digest of several strings, each one delimited so that ("ab","c") differs from ("a","bc"). */
export function fingerprint(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, 16);
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Whether a write would change the file (its content; modes are set on every write). */
export async function differs(path: string, content: string): Promise<boolean> {
  return (await readTextIfExists(path)) !== content;
}

/** Writes through a rename, so a reader never sees half a file; returns whether it changed anything. */
export async function writeFileIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  if (!(await differs(path, content))) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
  return true;
}

export interface CommandOutput {
  readonly code: number;
  readonly output: string;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<CommandOutput> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (!error) resolve({ code: 0, output });
        else
          resolve({
            code: typeof error.code === "number" ? error.code : -1,
            output: output || error.message,
          });
      },
    );
  });
}

export class BundleInvalid extends Error {
  override readonly name = "BundleInvalid";
}

/**
 * Unpacks the bundle beside the install folder and swaps it in whole: the running services keep
 * the old files until they are re-created, and an interrupted unpack leaves the old install.
 */
export async function unpackBundle(
  bundle: string,
  layout: HarborNodeLayout,
  signal: AbortSignal,
): Promise<void> {
  const staging = join(layout.dataDir, ".unpack");
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o755 });
  try {
    const untar = await runCommand("tar", ["-xzf", bundle, "-C", staging, "--no-same-owner"], {
      timeoutMs: 120_000,
      signal,
    });
    if (untar.code !== 0) throw new BundleInvalid(`tar could not unpack ${bundle}: ${untar.output}`);
    const unpacked = join(staging, "harbor");
    for (const required of ["prepare", "install.sh", "harbor.yml.tmpl"]) {
      if (!(await exists(join(unpacked, required)))) {
        throw new BundleInvalid(`${bundle} is not a Harbor offline installer: it has no harbor/${required}`);
      }
    }
    await rm(layout.installDir, { recursive: true, force: true });
    await rename(unpacked, layout.installDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Runs the bundle's prepare as Harbor's installer does, against this node's Docker daemon. */
export function runPrepare(layout: HarborNodeLayout, dockerSocket: string, signal: AbortSignal) {
  return runCommand(join(layout.installDir, "prepare"), [], {
    cwd: layout.installDir,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      DOCKER_HOST: `unix://${dockerSocket}`,
    },
    timeoutMs: 180_000,
    signal,
  });
}

/** What harbor-ha installed on this node last. */
export interface InstalledHarbor {
  readonly version: string;
  readonly bundleSha256: string;
  readonly inputsHash: string;
}

export async function readInstalled(layout: HarborNodeLayout): Promise<InstalledHarbor | undefined> {
  const text = await readTextIfExists(layout.stateFile);
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<InstalledHarbor>;
    if (typeof value.version !== "string" || typeof value.bundleSha256 !== "string") return undefined;
    return { version: value.version, bundleSha256: value.bundleSha256, inputsHash: value.inputsHash ?? "" };
  } catch {
    return undefined;
  }
}

export async function writeInstalled(layout: HarborNodeLayout, installed: InstalledHarbor): Promise<boolean> {
  return writeFileIfChanged(layout.stateFile, `${JSON.stringify(installed, null, 2)}\n`, 0o644);
}
