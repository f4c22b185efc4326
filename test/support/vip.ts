import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { holdsAddress } from "../../jobs/deploy/keepalived-observe.ts";

const execFileAsync = promisify(execFile);

/** Which lab nodes have the VIP on their eth0 right now, read inside each node's namespace. */
export async function vipHolders<N extends string>(nodes: readonly N[], vip: string): Promise<N[]> {
  const holders: N[] = [];
  for (const node of nodes) {
    const { stdout } = await execFileAsync("ip", [
      "netns",
      "exec",
      node,
      "ip",
      "-o",
      "-4",
      "addr",
      "show",
      "dev",
      "eth0",
    ]);
    if (holdsAddress(stdout, vip)) holders.push(node);
  }
  return holders;
}
