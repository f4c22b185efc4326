/**
 * The lab's network faults, done from the host inside a node's namespace (DESIGN.md §6). Each
 * returns the step that undoes it; undoing twice is harmless.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LAB_HOST_ADDRESS } from "../../lab/topology.ts";

const execFileAsync = promisify(execFile);

export type Heal = () => Promise<void>;

/** The node's only link down: cut from its peer, the VIP's clients and the control host alike. */
export async function cutNodeLink(node: string, iface: string): Promise<Heal> {
  const link = (state: "up" | "down") =>
    execFileAsync("ip", ["netns", "exec", node, "ip", "link", "set", iface, state]);
  await link("down");
  return async () => {
    await link("up");
  };
}

/**
 * The asymmetric partition: a blackhole route to the control host inside the node, so its agent
 * loses Redis and the control host loses its SSH, while the nodes and the VIP's clients still
 * reach it.
 */
export async function cutFromControlHost(node: string): Promise<Heal> {
  const route = (verb: "add" | "del") =>
    execFileAsync("ip", ["netns", "exec", node, "ip", "route", verb, "blackhole", `${LAB_HOST_ADDRESS}/32`]);
  await route("add");
  return async () => {
    await route("del").catch((error: { stderr?: string }) => {
      // Already gone (healed once before): nothing left to undo.
      if (!/No such process|not found/i.test(error.stderr ?? "")) throw error;
    });
  };
}
