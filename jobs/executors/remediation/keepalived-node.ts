import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { nodeDataPath } from "../../../config/node-paths.ts";
import { Containers } from "../../adapters/containers.ts";
import {
  type KeepalivedLayout,
  keepalivedContainerName,
  keepalivedLayout,
} from "../../deploy/keepalived-conf.ts";
import { holdsAddress } from "../../deploy/keepalived-observe.ts";
import type { AgentContext } from "../agent-context.ts";
import { showIpv4Addresses } from "../deploy/keepalived-host.ts";

const execFileAsync = promisify(execFile);

/** This node's keepalived as the deploy step left it: its folder, its container and the VIP. */
export interface KeepalivedHere {
  readonly containers: Containers;
  readonly container: string;
  readonly layout: KeepalivedLayout;
  readonly vip: string;
  readonly prefix: number;
  readonly iface: string;
}

export function keepalivedHere(context: AgentContext): KeepalivedHere {
  const { site, node } = context;
  return {
    containers: new Containers(context.docker),
    container: keepalivedContainerName(node.name),
    layout: keepalivedLayout(nodeDataPath(node, "keepalived")),
    vip: site.vip.address,
    prefix: site.vip.prefix,
    iface: site.vip.interface,
  };
}

export async function holdsVip(here: KeepalivedHere): Promise<boolean> {
  return holdsAddress(await showIpv4Addresses(here.iface), here.vip);
}

/**
 * Takes the VIP off this node's interface. Only for an address no keepalived here manages any
 * more: after a kill -9 keepalived leaves it configured (LAB.md pitfall 6), and a second holder
 * answers ARP for a node that no longer serves.
 */
export async function removeVip(here: KeepalivedHere): Promise<void> {
  try {
    await execFileAsync("ip", ["addr", "del", `${here.vip}/${here.prefix}`, "dev", here.iface], {
      timeout: 5_000,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "");
    // Gone meanwhile: what we wanted.
    if (/Cannot assign requested address/i.test(stderr)) return;
    throw new Error(
      `ip addr del ${here.vip}/${here.prefix} dev ${here.iface}: ${stderr.trim() || (error as Error).message}`,
    );
  }
}
