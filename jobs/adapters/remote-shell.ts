import { NodeSSH } from "node-ssh";
import type { NodeConfig } from "../../config/schema.ts";
import { HarborHaError, isHarborHaError } from "../../support/errors.ts";
import { type HostKeyVerdict, hostKeyAlgorithms, hostKeyOf, judgeHostKey } from "./ssh-host-keys.ts";
import { hostKeyError, loadHostKeyPins } from "./ssh-host-trust.ts";

export interface RemoteResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A shell on a node, for what must happen before (or without) its agent: bootstrap and fencing. */
export interface RemoteShell {
  readonly node: string;
  /**
   * Runs one command. A command that has not ended after `timeoutMs` (default
   * SSH_COMMAND_TIMEOUT_MS) is an SSH_COMMAND_TIMEOUT error, and the connection is closed: a hung
   * host must not hold a deploy step or a fence forever.
   */
  run(command: string, options?: { stdin?: string; timeoutMs?: number }): Promise<RemoteResult>;
  close(): Promise<void>;
}

/** A command over SSH that takes longer than this is given up (a deploy's longest: a Docker restart). */
export const SSH_COMMAND_TIMEOUT_MS = 120_000;

/** The command's first word, for an error message that must not carry its arguments (secrets). */
function firstWord(command: string): string {
  return command.trim().split(/\s+/)[0]?.slice(0, 40) ?? "a command";
}

/** One argument for a POSIX shell command line, single-quoted so nothing in it is interpreted. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The last lines of a command's output, for a failure's report. */
export function outputTail(result: RemoteResult, lines = 12): string {
  return `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-lines).join("\n");
}

function describeConnectError(node: NodeConfig, cause: unknown): HarborHaError {
  if (isHarborHaError(cause)) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  const target = `${node.ssh.user}@${node.address}:${node.ssh.port}`;
  if (/authentication methods failed|auth/i.test(message)) {
    return new HarborHaError("SSH_AUTH_FAILED", `${target} refused the key ${node.ssh.keyFile}`, {
      action: `SSH to ${node.name}`,
      hint: `check nodes[${node.name}].ssh.keyFile and that its public key is in ${node.ssh.user}'s authorized_keys on ${node.address}`,
      context: { node: node.name, target },
      cause,
    });
  }
  if (/ENOENT|no such file|privateKeyPath does not exist/i.test(message)) {
    return new HarborHaError(
      "SSH_AUTH_FAILED",
      `the SSH key ${node.ssh.keyFile} cannot be read: ${message}`,
      {
        action: `SSH to ${node.name}`,
        hint: "fix nodes[].ssh.keyFile in the site config",
        context: { node: node.name, keyFile: node.ssh.keyFile },
        cause,
      },
    );
  }
  return new HarborHaError("SSH_UNREACHABLE", `${target} is unreachable: ${message}`, {
    action: `SSH to ${node.name}`,
    hint: `is the node up and sshd listening on port ${node.ssh.port}? (try: ssh -i ${node.ssh.keyFile} ${node.ssh.user}@${node.address} true)`,
    context: { node: node.name, target },
    cause,
  });
}

/**
 * Opens an SSH session to a node with its configured user, port and key (node-ssh), once its
 * host key matches the one pinned for it (nodes[].ssh.hostKey or ssh.knownHostsFile). Any other
 * key, or none pinned, ends the connection during the key exchange, before authentication:
 * nothing (no stdin secret, no fence command) reaches an impostor, and the caller gets
 * SSH_HOST_KEY_MISMATCH or SSH_HOST_KEY_UNKNOWN.
 */
export async function connectSsh(node: NodeConfig, timeoutMs = 8_000): Promise<RemoteShell> {
  const pins = await loadHostKeyPins(node);
  const algorithms = hostKeyAlgorithms(pins);
  let refused: Exclude<HostKeyVerdict, { kind: "trusted" }> | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: node.address,
      port: node.ssh.port,
      username: node.ssh.user,
      privateKeyPath: node.ssh.keyFile,
      readyTimeout: timeoutMs,
      // ssh2 calls this on every key exchange, re-keys included.
      hostVerifier: (blob: Buffer) => {
        const verdict = judgeHostKey(pins, hostKeyOf(blob));
        if (verdict.kind === "trusted") return true;
        refused = verdict;
        return false;
      },
      ...(algorithms ? { algorithms: { serverHostKey: algorithms } } : {}),
    });
  } catch (cause) {
    ssh.dispose();
    if (refused) throw hostKeyError(node, refused, cause);
    throw describeConnectError(node, cause);
  }
  return {
    node: node.name,
    async run(command, options = {}) {
      const timeoutMs = options.timeoutMs ?? SSH_COMMAND_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ssh.dispose();
          reject(
            new HarborHaError(
              "SSH_COMMAND_TIMEOUT",
              `${firstWord(command)} on ${node.name} did not finish within ${timeoutMs < 1_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`,
              {
                action: `run a command on ${node.name} over SSH`,
                hint: `the host answers SSH but the command hangs: log in to ${node.name} and look (a stuck Docker, a full disk)`,
              },
            ),
          );
        }, timeoutMs);
      });
      try {
        const result = await Promise.race([
          ssh.execCommand(command, options.stdin === undefined ? {} : { stdin: options.stdin }),
          timedOut,
        ]);
        return { code: result.code, stdout: result.stdout, stderr: result.stderr };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      ssh.dispose();
    },
  };
}
