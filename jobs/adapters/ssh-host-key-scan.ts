import { NodeSSH } from "node-ssh";
import type { NodeConfig } from "../../config/schema.ts";
import { errorMessage, HarborHaError } from "../../support/errors.ts";
import { type HostKey, hostKeyOf } from "./ssh-host-keys.ts";

/**
 * The host key a node's sshd presents, as ssh-keyscan would read it: the key exchange runs until
 * the server has signed with its key, then the connection ends before authentication. Proves
 * nothing about the key: the caller decides whether to trust it.
 */
export async function scanHostKey(node: NodeConfig, timeoutMs = 8_000): Promise<HostKey> {
  let seen: HostKey | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: node.address,
      port: node.ssh.port,
      username: node.ssh.user,
      readyTimeout: timeoutMs,
      hostVerifier: (blob: Buffer) => {
        seen = hostKeyOf(blob);
        return false;
      },
    });
  } catch (cause) {
    if (seen) return seen;
    throw new HarborHaError(
      "SSH_UNREACHABLE",
      `${node.address}:${node.ssh.port} showed no host key: ${errorMessage(cause)}`,
      {
        action: `read ${node.name}'s SSH host key`,
        hint: `is the node up and sshd listening on port ${node.ssh.port}?`,
        context: { node: node.name },
        cause,
      },
    );
  } finally {
    ssh.dispose();
  }
  if (seen) return seen;
  // A verifier that says no cannot lead to a session: ssh2 would have to be broken.
  throw new Error(`ssh2 connected to ${node.name} although its host key was refused`);
}
