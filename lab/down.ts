import { readdir, readFile, rm, rmdir } from "node:fs/promises";
import type { Logger } from "../support/logger.ts";
import { labCgroupDirs, removeCgroupDirs } from "./cgroups.ts";
import { exists } from "./files.ts";
import { removeCreatedHostPaths } from "./host-paths.ts";
import { purgeNodeDaemons, purgeText } from "./image-store.ts";
import { isUnder, readMountPoints, unmountUnder } from "./mounts.ts";
import { parseIpAddr, removeNetwork } from "./network.ts";
import { labPaths } from "./paths.ts";
import { killPids, type ProcessRecord, stopProcesses } from "./processes.ts";
import { run } from "./shell.ts";
import { type LabState, readState } from "./state.ts";
import { changed, type StepEvent, StepRunner, unchanged } from "./steps.ts";
import { socketPathsOf, strayLabPids } from "./sweep.ts";
import { LAB_BRIDGE, type LabNode, labNode, MAX_NODES } from "./topology.ts";

export interface LabDownOptions {
  logger: Logger;
  onStep?: (event: StepEvent) => void;
}

/** containerd's shims keep their sockets here whatever containerd's own state folder is. */
const SHIM_SOCKET_DIR = "/run/containerd/s";

/** dockerd waits up to 15 s for its containers on shutdown; give it that and a little more. */
export const TERM_TIMEOUT_MS = 20_000;

/**
 * The order processes stop in: agents first (they act on the daemons), then everything else
 * together. Returns groups of records.
 */
export function stopOrder(state: LabState): ProcessRecord[][] {
  const entries = Object.entries(state.processes);
  const agents = entries.filter(([key]) => key.startsWith("agent:")).map(([, record]) => record);
  const rest = entries.filter(([key]) => !key.startsWith("agent:")).map(([, record]) => record);
  return [agents, rest].filter((group) => group.length > 0);
}

/**
 * The nodes to remove. With a state file, the ones it names. Without one (it was deleted by
 * hand), only namespaces whose host veth carries the lab's name: a namespace that merely happens
 * to be called node01 is someone else's.
 */
async function nodesToRemove(state: LabState | undefined): Promise<LabNode[]> {
  const candidates = Array.from({ length: MAX_NODES }, (_, i) => labNode(i + 1));
  if (state) return candidates.slice(0, state.nodeCount);
  const links = new Set(parseIpAddr((await run("ip", ["-j", "addr", "show"])).stdout).map((l) => l.name));
  return candidates.filter((node) => links.has(node.hostVeth));
}

async function commandName(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "?")).trim();
}

/**
 * Removes everything `lab up` made and nothing else: processes by their recorded PIDs, then
 * leftovers inside the lab's namespaces and cgroups, mounts under the lab's folders, the network,
 * the cgroup folders and the folders themselves. The image cache stays.
 */
export async function labDown(options: LabDownOptions): Promise<void> {
  const logger = options.logger.child({ component: "lab" });
  const steps = new StepRunner(logger, options.onStep);
  const paths = labPaths();
  const state = await readState(paths.stateFile);
  const nodes = await nodesToRemove(state);
  const bridgeExists =
    (await run("ip", ["link", "show", "dev", LAB_BRIDGE], { allowFailure: true })).code === 0;
  const traces =
    state || nodes.length > 0 || bridgeExists || (await exists(paths.root)) || (await exists(paths.runRoot));
  if (!traces) {
    await steps.run("down", async () => unchanged("nothing to do: the lab is not up"));
    return;
  }

  await steps.run("containers", async () => {
    // The image stores are kept (image-store.ts): what this lab made in them goes, the image stays.
    const removed = await purgeNodeDaemons(paths, nodes);
    const text = purgeText(removed);
    return text === "nothing"
      ? unchanged("no container, volume or image of the lab left")
      : changed(`removed ${text}`);
  });

  await steps.run("processes", async () => {
    const groups = state ? stopOrder(state) : [];
    let stopped = 0;
    let killed = 0;
    for (const group of groups) {
      const outcome = await stopProcesses(group, TERM_TIMEOUT_MS);
      stopped += outcome.stopped;
      killed += outcome.killed;
    }
    if (stopped + killed === 0) return unchanged("no recorded process was running");
    return changed(`stopped ${stopped} recorded processes${killed > 0 ? ` (${killed} needed SIGKILL)` : ""}`);
  });

  await steps.run("leftovers", async () => {
    const pids = await strayLabPids(
      nodes.map((n) => n.netns),
      await labCgroupDirs(paths.cgroupParent),
    );
    if (pids.length === 0) return unchanged("no process left in the lab's namespaces or cgroups");
    const names = await Promise.all(pids.map(async (pid) => `${pid} ${await commandName(pid)}`));
    const sockets = (await Promise.all(pids.map(socketPathsOf)))
      .flat()
      .filter((p) => isUnder(p, SHIM_SOCKET_DIR));
    await killPids(pids);
    await Promise.all(sockets.map((socket) => rm(socket, { force: true })));
    return changed(`killed ${pids.length} left in the lab's namespaces or cgroups: ${names.join(", ")}`);
  });

  await steps.run("mounts", async () => {
    const count = await unmountUnder([paths.root, paths.runRoot, paths.dockerRootsDir]);
    return count > 0
      ? changed(`unmounted ${count} under ${paths.root} and ${paths.runRoot}`)
      : unchanged("no mounts");
  });

  await steps.run("network", async () => {
    const removed = await removeNetwork(nodes, LAB_BRIDGE);
    return removed.length > 0 ? changed(`removed ${removed.join(", ")}`) : unchanged("no lab network left");
  });

  await steps.run("cgroups", async () => {
    const removed = await removeCgroupDirs(await labCgroupDirs(paths.cgroupParent));
    return removed > 0 ? changed(`removed ${removed} cgroup folders`) : unchanged("no cgroup folders");
  });

  await steps.run("folders", async () => {
    const removed: string[] = [];
    for (const folder of [paths.runRoot, paths.root]) {
      if (!(await exists(folder))) continue;
      await rm(folder, { recursive: true, force: true });
      removed.push(folder);
    }
    removed.push(...(await removeCreatedHostPaths(state?.createdHostPaths ?? [])));
    if (state?.createdNetnsMount && (await releaseNetnsMount())) removed.push("/run/netns");
    return removed.length > 0 ? changed(`removed ${removed.join(", ")}`) : unchanged("no folders");
  });
}

/**
 * `ip netns add` turned /run/netns into a shared bind mount of itself. If the lab made it and no
 * other namespace lives there now, put the host back as it was.
 */
async function releaseNetnsMount(): Promise<boolean> {
  if (!(await exists("/run/netns")) || (await readdir("/run/netns")).length > 0) return false;
  while ((await readMountPoints()).includes("/run/netns")) await run("umount", ["/run/netns"]);
  await rmdir("/run/netns");
  return true;
}
