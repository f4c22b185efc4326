import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import type { SiteConfig } from "../config/schema.ts";
import type { ProbeReading, VipFacts } from "./observation.ts";
import { readProbe } from "./reading.ts";

export type InterfaceTable = NodeJS.Dict<readonly NetworkInterfaceInfo[]>;

/**
 * Whether the interface holds the address (any prefix: a holder with a wrong prefix still holds
 * it and still answers ARP for it). Throws for an interface the node does not have: that is a
 * wrong site config, not a node without the VIP.
 */
export function holdsVip(table: InterfaceTable, vip: SiteConfig["vip"]): VipFacts {
  const addresses = table[vip.interface];
  if (!addresses) {
    const known = Object.keys(table).sort().join(", ");
    throw new Error(`no interface ${vip.interface} on this node (it has ${known || "none"})`);
  }
  return {
    address: vip.address,
    interface: vip.interface,
    holds: addresses.some((entry) => entry.family === "IPv4" && entry.address === vip.address),
  };
}

/**
 * Does this node hold the VIP? The agent runs in the node's network namespace, so the
 * kernel's own address list (getifaddrs, secondary addresses included) is the truth; no
 * `ip` process per probe.
 */
export function probeVip(
  vip: SiteConfig["vip"],
  timeoutMs: number,
  readTable: () => InterfaceTable = networkInterfaces,
): Promise<ProbeReading<VipFacts>> {
  return readProbe(timeoutMs, "VIP probe", async () => holdsVip(readTable(), vip));
}
