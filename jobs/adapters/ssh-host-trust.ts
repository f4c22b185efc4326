import { mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { NodeConfig } from "../../config/schema.ts";
import { HarborHaError } from "../../support/errors.ts";
import {
  type HostKey,
  type HostKeyPins,
  type HostKeyVerdict,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  pinsFor,
} from "./ssh-host-keys.ts";

/** The name a node has in known_hosts: its address, bracketed with the port when that is not 22. */
export function nodeKnownHostsName(node: NodeConfig): string {
  return knownHostsName(node.address, node.ssh.port);
}

/**
 * What a node's host key is checked against, read afresh for each connection (an operator who
 * fixes known_hosts need not restart the bot). A named file that does not exist yet pins nothing.
 */
export async function loadHostKeyPins(node: NodeConfig): Promise<HostKeyPins> {
  const file = node.ssh.knownHostsFile;
  let text = "";
  if (file !== undefined) {
    try {
      text = await readFile(file, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new HarborHaError("SSH_HOST_KEY_UNKNOWN", `cannot read ${file}: ${(cause as Error).message}`, {
          action: `check ${node.name}'s SSH host key`,
          hint: `make nodes[${node.name}].ssh.knownHostsFile readable by this process`,
          context: { node: node.name, knownHostsFile: file },
          cause,
        });
      }
    }
  }
  return pinsFor(node.ssh.hostKey, parseKnownHosts(text).entries, nodeKnownHostsName(node));
}

/** Where the node's pins come from, for a message: "nodes[node01].ssh.hostKey and /etc/…/known_hosts". */
function pinSources(node: NodeConfig): string {
  const sources = [
    ...(node.ssh.hostKey ? [`nodes[${node.name}].ssh.hostKey`] : []),
    ...(node.ssh.knownHostsFile ? [node.ssh.knownHostsFile] : []),
  ];
  return sources.length === 0 ? "nothing (no ssh.hostKey, no ssh.knownHostsFile)" : sources.join(" and ");
}

/** The refusal for a host key that is not the pinned one, or that nothing pins. */
export function hostKeyError(
  node: NodeConfig,
  verdict: Exclude<HostKeyVerdict, { kind: "trusted" }>,
  cause?: unknown,
): HarborHaError {
  const target = `${node.address}:${node.ssh.port}`;
  const action = `SSH to ${node.name}`;
  const context = { node: node.name, target, seen: verdict.seen, pinnedBy: pinSources(node) };
  const withCause = cause === undefined ? {} : { cause };
  switch (verdict.kind) {
    case "unknown":
      return new HarborHaError(
        "SSH_HOST_KEY_UNKNOWN",
        `host key of ${node.name} (${target}) is not pinned: expected a key pinned by ${pinSources(node)}, seen ${verdict.seen}; refused, nothing was sent`,
        {
          action,
          hint: `compare ${verdict.seen} with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` run on ${node.name} itself, then set nodes[${node.name}].ssh.hostKey to it (or name ssh.knownHostsFile and run \`harbor-ha deploy --record-host-keys\` once)`,
          context,
          ...withCause,
        },
      );
    case "mismatch":
      return new HarborHaError(
        "SSH_HOST_KEY_MISMATCH",
        `host key mismatch for ${node.name} (${target}): expected ${verdict.expected.join(" or ")}, seen ${verdict.seen}; refused, nothing was sent (someone may be in the middle)`,
        {
          action,
          hint: `check the host before anything else: run \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on ${node.name}'s console; only if its key really changed, update nodes[${node.name}].ssh.hostKey (or its line in ${node.ssh.knownHostsFile ?? "the known_hosts file"})`,
          context: { ...context, expected: verdict.expected },
          ...withCause,
        },
      );
    case "revoked":
      return new HarborHaError(
        "SSH_HOST_KEY_MISMATCH",
        `host key of ${node.name} (${target}) is revoked: seen ${verdict.seen}, marked @revoked in ${node.ssh.knownHostsFile}; refused, nothing was sent`,
        {
          action,
          hint: `${node.name} presents a key the operators revoked: check the host, give it a new host key and pin that one`,
          context,
          ...withCause,
        },
      );
    default: {
      const unreachable: never = verdict;
      throw new Error(`unknown verdict ${String(unreachable)}`);
    }
  }
}

/**
 * Appends a node's host key to its known_hosts file, made 0600 if absent. Never replaces a line:
 * the caller records only keys that nothing pins yet (a different pinned key is a mismatch).
 */
export async function recordHostKey(node: NodeConfig, key: HostKey, comment: string): Promise<string> {
  const file = node.ssh.knownHostsFile;
  if (file === undefined) {
    throw new HarborHaError("SSH_HOST_KEY_UNKNOWN", `nodes[${node.name}].ssh.knownHostsFile is not set`, {
      action: `record ${node.name}'s SSH host key`,
      hint: `name a known_hosts file in nodes[${node.name}].ssh.knownHostsFile (it is created, mode 600), or pin nodes[${node.name}].ssh.hostKey by hand`,
      context: { node: node.name },
    });
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, "a", 0o600);
  try {
    const { size } = await handle.stat();
    // A file whose last line has no newline would glue our entry onto it.
    const before = size > 0 && !(await readFile(file, "utf8")).endsWith("\n") ? "\n" : "";
    await handle.appendFile(`${before}${knownHostsLine(nodeKnownHostsName(node), key, comment)}`);
  } finally {
    await handle.close();
  }
  return file;
}
