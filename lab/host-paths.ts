import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { exists } from "./files.ts";

/**
 * Paths outside the lab's folders that its daemons create with no option to move them:
 * sshd's privilege-separation folder, dockerd 20.10's trust key and plugin folder, containerd's
 * shim socket folder (fixed at /run/containerd/s whatever its state dir) and its "opt" plugin
 * folder. Up notes which of them did not exist before the lab; down removes exactly those, and
 * folders only when empty, so a host dockerd started in between keeps what it uses.
 */
export const HOST_PATHS_DAEMONS_CREATE = [
  "/run/sshd",
  "/etc/docker/key.json",
  "/run/docker/plugins",
  "/run/docker",
  "/run/containerd/s",
  "/run/containerd",
  "/opt/containerd/bin",
  "/opt/containerd/lib",
  "/opt/containerd",
] as const;

export async function absentHostPaths(
  paths: readonly string[] = HOST_PATHS_DAEMONS_CREATE,
): Promise<string[]> {
  const absent: string[] = [];
  for (const path of paths) if (!(await exists(path))) absent.push(path);
  return absent;
}

/** Deepest first, so a folder's children go before it. */
export function removalOrder(paths: readonly string[]): string[] {
  return [...paths].sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a));
}

/** Removes the paths the lab created: files outright, folders only when empty. Returns what went. */
export async function removeCreatedHostPaths(paths: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const path of removalOrder(paths)) {
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) {
      if ((await readdir(path)).length > 0) continue;
      await rmdir(path);
    } else {
      await rm(path);
    }
    removed.push(path);
  }
  return removed;
}
