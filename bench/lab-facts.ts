import { LAB_VIP } from "../lab/index.ts";

/** The two nodes of the lab the bench runs on (lab/topology.ts's defaults). */
export const NODES = ["node01", "node02"] as const;
export type NodeName = (typeof NODES)[number];
export const ADDRESS: Record<NodeName, string> = { node01: "10.77.0.11", node02: "10.77.0.12" };
export const VIP = LAB_VIP;
export const HOST_ADDRESS = "10.77.0.1";

export function peerOf(node: string): NodeName {
  return node === "node01" ? "node02" : "node01";
}

export function addressOf(node: string): string {
  return ADDRESS[node as NodeName] ?? node;
}
