import { readFile } from "node:fs/promises";
import { run } from "./shell.ts";

/** Decodes the octal escapes (\040 for a space, ...) that /proc/self/mountinfo uses in paths. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points listed in /proc/self/mountinfo (field 5), in mount order. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined && point !== "")
    .map(unescapeMountPath);
}

export function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** Mount points under any of the folders, deepest and latest first: the order they must go in. */
export function mountsUnder(mountPoints: readonly string[], folders: readonly string[]): string[] {
  const under = mountPoints
    .map((point, order) => ({ point, order }))
    .filter(({ point }) => folders.some((folder) => isUnder(point, folder)));
  under.sort((a, b) => b.point.split("/").length - a.point.split("/").length || b.order - a.order);
  return under.map(({ point }) => point);
}

export async function readMountPoints(): Promise<string[]> {
  return parseMountPoints(await readFile("/proc/self/mountinfo", "utf8"));
}

/**
 * Unmounts everything below the folders. dockerd leaves its data root bound onto itself and an
 * nsfs mount under its exec root (LAB.md pitfall 2); both keep folders busy until unmounted.
 * Stacked mounts on one point need one umount each, hence the rounds. A mount still busy after
 * its processes are gone is detached lazily as a last resort.
 */
export async function unmountUnder(folders: readonly string[]): Promise<number> {
  let count = 0;
  for (let round = 0; round < 10; round++) {
    const targets = mountsUnder(await readMountPoints(), folders);
    if (targets.length === 0) return count;
    for (const target of targets) {
      const result = await run("umount", [target], { allowFailure: true });
      if (result.code !== 0) await run("umount", ["--lazy", target], { allowFailure: true });
      count++;
    }
  }
  const left = mountsUnder(await readMountPoints(), folders);
  if (left.length > 0) {
    await run("umount", ["--lazy", ...left]);
  }
  return count;
}
