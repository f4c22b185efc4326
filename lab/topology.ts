/**
 * The lab's fixed addressing plan (DESIGN.md §6): a bridge in the root namespace plays the
 * operations host, each node is a network namespace named after it, joined by a veth pair whose
 * node side is eth0. Everything here is derived from the node count, so `up`, `down` and
 * `status` agree on names without reading each other's output.
 */
export const LAB_SUBNET_PREFIX = 24;
export const LAB_BRIDGE = "hha-br0";
export const LAB_HOST_ADDRESS = "10.77.0.1";
export const LAB_VIP = "10.77.0.100";
export const LAB_REDIS_PORT = 6379;
/** TLS only: the lab's Redis has no plain-text port (lab/redis.ts). */
export const LAB_REDIS_URL = `rediss://${LAB_HOST_ADDRESS}:${LAB_REDIS_PORT}/0`;
export const LAB_SSH_PORT = 22;
export const MIN_NODES = 2;
export const MAX_NODES = 9;
export const DEFAULT_NODES = 2;

export interface LabNode {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  /** The root-namespace end of the node's veth pair, enslaved to the bridge. */
  readonly hostVeth: string;
}

export interface LabTopology {
  readonly bridge: string;
  readonly hostAddress: string;
  readonly prefix: number;
  readonly vip: string;
  readonly nodes: readonly LabNode[];
}

export function isValidNodeCount(count: number): boolean {
  return Number.isInteger(count) && count >= MIN_NODES && count <= MAX_NODES;
}

export function labNode(index: number): LabNode {
  const name = `node0${index}`;
  return { name, address: `10.77.0.${10 + index}`, netns: name, hostVeth: `hha-${name}` };
}

export function labTopology(nodeCount: number): LabTopology {
  if (!isValidNodeCount(nodeCount)) {
    throw new RangeError(`node count must be an integer from ${MIN_NODES} to ${MAX_NODES}, got ${nodeCount}`);
  }
  const nodes = Array.from({ length: nodeCount }, (_, i) => labNode(i + 1));
  return {
    bridge: LAB_BRIDGE,
    hostAddress: LAB_HOST_ADDRESS,
    prefix: LAB_SUBNET_PREFIX,
    vip: LAB_VIP,
    nodes,
  };
}
