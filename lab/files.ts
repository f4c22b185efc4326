import { createHash } from "node:crypto";
import { access, chmod, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { readTextIfExists, writeAtomically } from "../support/files.ts";

export { readTextIfExists };

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a file only when its content or mode differs, through a rename so readers never see half
 * a file. Returns whether anything changed: a second `lab up` reports "unchanged" from this.
 */
export async function writeFileIfChanged(path: string, content: string, mode = 0o644): Promise<boolean> {
  const current = await readTextIfExists(path);
  if (current === content) {
    const currentMode = (await stat(path)).mode & 0o777;
    if (currentMode === mode) return false;
    await chmod(path, mode);
    return true;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, content, mode);
  return true;
}

/** Creates folders with a given mode; returns the ones that did not exist before. */
export async function ensureDirs(paths: readonly string[], mode = 0o755): Promise<string[]> {
  const created: string[] = [];
  for (const path of paths) {
    if (await exists(path)) {
      if (((await stat(path)).mode & 0o777) !== mode) await chmod(path, mode);
      continue;
    }
    await mkdir(path, { recursive: true, mode });
    await chmod(path, mode);
    created.push(path);
  }
  return created;
}

export function fingerprint(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, 16);
}
