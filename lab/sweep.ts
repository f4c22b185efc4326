import { readdir, readFile, readlink, stat } from "node:fs/promises";
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

/** Unix socket paths by inode, from /proc/PID/net/unix (the table of the process's network namespace). */
export function parseUnixSockets(table: string): Map<number, string> {
  const byInode = new Map<number, string>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const inode = Number(fields[6]);
    const path = fields[7];
    if (path?.startsWith("/") && Number.isFinite(inode)) byInode.set(inode, path);
  }
  return byInode;
}

/**
 * The filesystem sockets a process holds open. A killed containerd shim cannot remove its socket,
 * which containerd keeps at /run/containerd/s whatever its own state folder is; down removes the
 * ones its leftovers held, and only those.
 */
export async function socketPathsOf(pid: number): Promise<string[]> {
  const table = parseUnixSockets(await readFile(`/proc/${pid}/net/unix`, "utf8").catch(() => ""));
  const paths: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const inode = Number(
      (await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")).match(/^socket:\[(\d+)\]$/)?.[1],
    );
    const path = table.get(inode);
    if (path) paths.push(path);
  }
  return paths;
}
