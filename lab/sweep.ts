import { readdir, readlink, stat } from "node:fs/promises";
import { pidsInCgroups } from "./cgroups.ts";

/** The inode numbers of the named network namespaces (`/run/netns/NAME` is a bind mount of the nsfs file). */
export async function netnsInodes(names: readonly string[]): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const name of names) {
    const info = await stat(`/run/netns/${name}`).catch(() => undefined);
    if (info) inodes.add(info.ino);
  }
  return inodes;
}

/** "net:[4026532281]" → 4026532281. */
export function parseNsLink(link: string): number | undefined {
  const match = link.match(/^net:\[(\d+)\]$/);
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Processes left after the recorded ones were stopped that still belong to the lab: everything
 * inside a node's network namespace (containerd, shims, an open ssh session) and everything in
 * the lab's cgroups (containers). Found by identity, never by name, so nothing outside the lab
 * is ever matched.
 */
export async function strayLabPids(
  netnsNames: readonly string[],
  cgroupDirs: readonly string[],
): Promise<number[]> {
  const inodes = await netnsInodes(netnsNames);
  const pids = new Set<number>(await pidsInCgroups(cgroupDirs));
  if (inodes.size > 0) {
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const link = await readlink(`/proc/${entry}/ns/net`).catch(() => "");
      const inode = parseNsLink(link);
      if (inode !== undefined && inodes.has(inode)) pids.add(Number(entry));
    }
  }
  pids.delete(process.pid);
  return [...pids].sort((a, b) => a - b);
}
