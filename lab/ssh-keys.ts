import { readFile } from "node:fs/promises";
import { ensureDirs, exists, writeFileIfChanged } from "./files.ts";
import type { LabPaths } from "./paths.ts";
import { run } from "./shell.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import type { LabTopology } from "./topology.ts";

async function generateKey(file: string, comment: string): Promise<boolean> {
  if (await exists(file)) return false;
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return true;
}

/** known_hosts lines: each node's address with its host key, so clients can check host keys strictly. */
export function knownHostsText(entries: readonly { address: string; publicKey: string }[]): string {
  return entries
    .map((e) => `${e.address} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(" ")}\n`)
    .join("");
}

/**
 * The lab's key pair (the operations host logs into every node as root with it), one host key
 * per node, the authorized_keys every node's sshd reads, and a known_hosts for clients. The
 * folder is 0700: sshd's StrictModes and ssh's own checks both refuse keys others can read.
 */
export async function ensureSshKeys(paths: LabPaths, topology: LabTopology): Promise<StepResult> {
  let changes = (await ensureDirs([paths.sshDir], 0o700)).length;
  if (await generateKey(paths.sshKey, "harbor-ha-lab")) changes++;
  const hostKeys: { address: string; publicKey: string }[] = [];
  for (const node of topology.nodes) {
    const keyFile = paths.node(node.name).sshHostKey;
    if (await generateKey(keyFile, `harbor-ha-lab ${node.name}`)) changes++;
    hostKeys.push({ address: node.address, publicKey: await readFile(`${keyFile}.pub`, "utf8") });
  }
  const publicKey = await readFile(paths.sshPublicKey, "utf8");
  if (await writeFileIfChanged(paths.authorizedKeys, publicKey, 0o600)) changes++;
  if (await writeFileIfChanged(paths.knownHosts, knownHostsText(hostKeys), 0o644)) changes++;
  const what = `key pair ${paths.sshKey}, ${topology.nodes.length} host keys`;
  return changes === 0 ? unchanged(what) : changed(what);
}
