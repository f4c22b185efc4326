import { HarborHaError } from "../support/errors.ts";
import { run } from "./shell.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import type { LabNode, LabTopology } from "./topology.ts";

/** One interface as `ip -j addr show` describes it, reduced to what the lab checks. */
export interface LinkInfo {
  readonly name: string;
  readonly up: boolean;
  readonly master?: string;
  /** "address/prefix", IPv4 only. */
  readonly addresses: readonly string[];
}

export interface NetworkSnapshot {
  readonly rootLinks: readonly LinkInfo[];
  readonly namespaces: readonly string[];
  /** Links inside each existing namespace. */
  readonly nodeLinks: Readonly<Record<string, readonly LinkInfo[]>>;
}

interface IpAddrJson {
  ifname?: string;
  flags?: string[];
  master?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

export function parseIpAddr(json: string): LinkInfo[] {
  if (json.trim() === "") return [];
  return (JSON.parse(json) as IpAddrJson[]).map((link) => ({
    name: link.ifname ?? "",
    up: link.flags?.includes("UP") ?? false,
    ...(link.master ? { master: link.master } : {}),
    addresses: (link.addr_info ?? [])
      .filter((a) => a.family === "inet" && a.local)
      .map((a) => `${a.local}/${a.prefixlen}`),
  }));
}

export function parseNetnsList(json: string): string[] {
  if (json.trim() === "") return [];
  return (JSON.parse(json) as { name: string }[]).map((ns) => ns.name);
}

/**
 * The `ip` commands that turn what exists into the lab's network, in order. An empty plan means
 * the network is already as it should be. Nothing here touches routes or ip_forward: the nodes get
 * no default route, so the lab cannot reach beyond its own bridge.
 */
export function planNetwork(topology: LabTopology, snapshot: NetworkSnapshot): string[][] {
  const plan: string[][] = [];
  const root = new Map(snapshot.rootLinks.map((link) => [link.name, link]));
  const bridgeAddress = `${topology.hostAddress}/${topology.prefix}`;
  const bridge = root.get(topology.bridge);
  if (!bridge) plan.push(["link", "add", topology.bridge, "type", "bridge"]);
  if (!bridge?.addresses.includes(bridgeAddress))
    plan.push(["addr", "add", bridgeAddress, "dev", topology.bridge]);
  if (!bridge?.up) plan.push(["link", "set", topology.bridge, "up"]);

  for (const node of topology.nodes) {
    const nsExists = snapshot.namespaces.includes(node.netns);
    if (!nsExists) plan.push(["netns", "add", node.netns]);
    const inside = new Map((snapshot.nodeLinks[node.netns] ?? []).map((link) => [link.name, link]));
    const eth0 = inside.get("eth0");
    const hostVeth = root.get(node.hostVeth);
    if (!eth0) {
      // A host end without its node end is a leftover of a half-made pair: replace the pair.
      if (hostVeth) plan.push(["link", "del", node.hostVeth]);
      plan.push(["link", "add", node.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", node.netns]);
    }
    if (!eth0 || !hostVeth || hostVeth.master !== topology.bridge || !hostVeth.up) {
      plan.push(["link", "set", node.hostVeth, "master", topology.bridge, "up"]);
    }
    const nodeAddress = `${node.address}/${topology.prefix}`;
    if (!eth0?.addresses.includes(nodeAddress))
      plan.push(["-n", node.netns, "addr", "add", nodeAddress, "dev", "eth0"]);
    if (!eth0?.up) plan.push(["-n", node.netns, "link", "set", "eth0", "up"]);
    if (!inside.get("lo")?.up) plan.push(["-n", node.netns, "link", "set", "lo", "up"]);
  }
  return plan;
}

export async function readNetwork(names: readonly string[]): Promise<NetworkSnapshot> {
  const rootLinks = parseIpAddr((await run("ip", ["-j", "addr", "show"])).stdout);
  const namespaces = parseNetnsList((await run("ip", ["-j", "netns", "list"])).stdout);
  const nodeLinks: Record<string, LinkInfo[]> = {};
  for (const name of names.filter((n) => namespaces.includes(n))) {
    nodeLinks[name] = parseIpAddr((await run("ip", ["-n", name, "-j", "addr", "show"])).stdout);
  }
  return { rootLinks, namespaces, nodeLinks };
}

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Whether two IPv4 networks ("a.b.c.d/p") share any address. */
export function networksOverlap(a: string, b: string): boolean {
  const [addressA = "", prefixA = "32"] = a.split("/");
  const [addressB = "", prefixB = "32"] = b.split("/");
  const prefix = Math.min(Number(prefixA), Number(prefixB));
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4ToInt(addressA) / size) === Math.floor(ipv4ToInt(addressB) / size);
}

/** Root-namespace interfaces, other than the lab's bridge, on a network that overlaps the lab's. */
export function conflictingLinks(topology: LabTopology, snapshot: NetworkSnapshot): string[] {
  const lab = `${topology.hostAddress}/${topology.prefix}`;
  return snapshot.rootLinks
    .filter((link) => link.name !== topology.bridge && link.addresses.some((a) => networksOverlap(a, lab)))
    .map((link) => `${link.name} (${link.addresses.join(", ")})`);
}

export async function ensureNetwork(topology: LabTopology): Promise<StepResult> {
  const snapshot = await readNetwork(topology.nodes.map((n) => n.netns));
  const conflicts = conflictingLinks(topology, snapshot);
  if (conflicts.length > 0) {
    throw new HarborHaError(
      "LAB_CONFLICT",
      `the lab's subnet is already in use here: ${conflicts.join("; ")}`,
      {
        action: "lab network",
        hint: `free ${topology.hostAddress}/${topology.prefix} on this machine; the lab's addresses are fixed`,
        context: { conflicts },
      },
    );
  }
  const plan = planNetwork(topology, snapshot);
  for (const args of plan) await run("ip", args);
  const what = `bridge ${topology.bridge} ${topology.hostAddress}/${topology.prefix}, ${topology.nodes.length} namespaces`;
  return plan.length === 0 ? unchanged(what) : changed(`${what} (${plan.length} ip commands)`);
}

/**
 * Removes the namespaces (their veth pairs go with them), any host veth end left over, and the
 * bridge. Only the lab's own names are touched.
 */
export async function removeNetwork(nodes: readonly LabNode[], bridge: string): Promise<string[]> {
  const snapshot = await readNetwork([]);
  const removed: string[] = [];
  for (const node of nodes) {
    if (snapshot.namespaces.includes(node.netns)) {
      await run("ip", ["netns", "delete", node.netns]);
      removed.push(`netns ${node.netns}`);
    }
  }
  // A deleted namespace takes its veth pairs along, but the kernel does that asynchronously: the
  // host end may still be listed, or vanish between the listing and our own delete.
  for (const name of [...nodes.map((n) => n.hostVeth), bridge]) {
    if ((await run("ip", ["link", "del", name], { allowFailure: true })).code === 0) {
      removed.push(name);
    } else if ((await run("ip", ["link", "show", "dev", name], { allowFailure: true })).code === 0) {
      await run("ip", ["link", "del", name]);
    }
  }
  return removed;
}
