import type { NodeConfig } from "../../config/schema.ts";
import { errorMessage, isHarborHaError } from "../../support/errors.ts";
import { connectSsh, outputTail, shellQuote } from "../adapters/remote-shell.ts";
import { keepalivedContainerName } from "../deploy/keepalived-conf.ts";
import { postgresContainerName } from "../deploy/postgres-config.ts";

/**
 * The fence when a node's agent is gone (DESIGN §4): over SSH, the node's Docker stops its
 * keepalived (the VIP leaves) and its PostgreSQL (fast shutdown), and no restart policy may bring
 * PostgreSQL back. The commands are idempotent: a container already stopped stays stopped.
 */
export function sshFenceScript(node: NodeConfig): string {
  const docker = `docker --host ${shellQuote(`unix://${node.dockerSocket}`)}`;
  const keepalived = shellQuote(keepalivedContainerName(node.name));
  const postgres = shellQuote(postgresContainerName(node.name));
  return [
    "set -e",
    `${docker} update --restart=no ${postgres} >/dev/null 2>&1 || true`,
    `${docker} stop --time 10 ${keepalived} >/dev/null 2>&1 || true`,
    `${docker} kill --signal SIGINT ${postgres} >/dev/null 2>&1 || true`,
    // Wait for PostgreSQL's fast shutdown, then say what is running: the caller checks it.
    `for i in $(seq 1 60); do [ "$(${docker} inspect -f '{{.State.Running}}' ${postgres} 2>/dev/null)" = true ] || break; sleep 0.5; done`,
    `echo "keepalived=$(${docker} inspect -f '{{.State.Running}}' ${keepalived} 2>/dev/null || echo absent)"`,
    `echo "postgres=$(${docker} inspect -f '{{.State.Running}}' ${postgres} 2>/dev/null || echo absent)"`,
  ].join("\n");
}

export interface SshFenceResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Reads the script's last lines: fenced when neither container runs. */
export function fencedBySsh(output: string): boolean {
  const state = (name: string) => new RegExp(`^${name}=(\\S+)$`, "m").exec(output)?.[1];
  return ["keepalived", "postgres"].every((name) => {
    const running = state(name);
    return running === "false" || running === "absent";
  });
}

/** The fence script stops two containers: a host where it takes longer is not fenced by it. */
const SSH_FENCE_SCRIPT_TIMEOUT_MS = 20_000;

export async function fenceOverSsh(node: NodeConfig): Promise<SshFenceResult> {
  let shell: Awaited<ReturnType<typeof connectSsh>> | undefined;
  try {
    shell = await connectSsh(node, 5_000);
    const result = await shell.run(sshFenceScript(node), { timeoutMs: SSH_FENCE_SCRIPT_TIMEOUT_MS });
    const output = `${result.stdout}\n${result.stderr}`;
    return fencedBySsh(result.stdout)
      ? {
          ok: true,
          detail: `fenced ${node.name} over SSH (its agent is silent): keepalived and PostgreSQL stopped`,
        }
      : {
          ok: false,
          detail: `fencing ${node.name} over SSH left something running: ${outputTail(result, 6) || output.trim()}`,
        };
  } catch (error) {
    // The key exchange ended before the script was sent: an impostor's "fenced" is never heard.
    if (
      isHarborHaError(error) &&
      (error.code === "SSH_HOST_KEY_MISMATCH" || error.code === "SSH_HOST_KEY_UNKNOWN")
    ) {
      // The message begins "host key mismatch for NODE" (or "host key of NODE ... is not pinned").
      return {
        ok: false,
        detail: `not fenced: ${node.name}'s agent is silent and SSH was refused: ${error.message}`,
      };
    }
    return {
      ok: false,
      detail: `cannot fence ${node.name}: its agent is silent and SSH failed (${errorMessage(error)})`,
    };
  } finally {
    await shell?.close().catch(() => {});
  }
}
