import { readdir, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { exists } from "./files.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * The lab's cgroup folders in every mounted hierarchy: on cgroup v1 each controller is its own
 * tree (/sys/fs/cgroup/memory/harbor-ha-lab, ...), on v2 there is one. Returned deepest first,
 * the order rmdir needs.
 */
export async function labCgroupDirs(parent: string): Promise<string[]> {
  const tops: string[] = [join(CGROUP_ROOT, parent)];
  for (const entry of await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) tops.push(join(CGROUP_ROOT, entry.name, parent));
  }
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await walk(join(dir, entry.name));
    found.push(dir);
  };
  for (const top of tops) if (await exists(join(top, "cgroup.procs"))) await walk(top);
  return found;
}

/** PIDs still inside the lab's cgroups (containers whose daemon died without stopping them). */
export async function pidsInCgroups(dirs: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line.trim()) pids.add(Number(line));
  }
  return [...pids];
}

/** Removes the folders (a cgroup folder is removed with rmdir, never recursively). */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<number> {
  let removed = 0;
  for (const dir of dirs) {
    try {
      await rmdir(dir);
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return removed;
}
