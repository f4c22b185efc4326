import { ensureNodeDaemons } from "./daemons.ts";
import { ensureDirs, exists, fingerprint, writeFileIfChanged } from "./files.ts";
import { type LabNodePaths, type LabPaths, logFile } from "./paths.ts";
import { sshAnswers } from "./probes.ts";
import { run } from "./shell.ts";
import { processKey, type StateStore } from "./state.ts";
import type { StepResult } from "./steps.ts";
import { LAB_SSH_PORT, type LabNode, type LabTopology } from "./topology.ts";

/** sshd's privilege-separation folder, fixed at build time; it must exist for any sshd to start. */
export const SSHD_PRIVSEP_DIR = "/run/sshd";

/**
 * One node's sshd: root logs in with the lab's key only, and every session talks to that
 * node's dockerd through DOCKER_HOST (`ssh root@10.77.0.11 docker ps`). No PAM: nothing here
 * needs a login session, and PAM's modules expect a systemd host.
 */
export function sshdConfig(node: LabNode, nodePaths: LabNodePaths, paths: LabPaths): string {
  return [
    "# Written by harbor-ha lab up; removed by lab down.",
    `ListenAddress ${node.address}:${LAB_SSH_PORT}`,
    `HostKey ${nodePaths.sshHostKey}`,
    `PidFile ${nodePaths.sshdPidFile}`,
    `AuthorizedKeysFile ${paths.authorizedKeys}`,
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PrintMotd no",
    "X11Forwarding no",
    "AllowTcpForwarding yes",
    `SetEnv DOCKER_HOST=unix://${nodePaths.dockerSocket}`,
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n");
}

/** Returns whether it had to create /run/sshd (host-paths.ts has down remove it again). */
export async function ensurePrivsepDir(): Promise<boolean> {
  if (await exists(SSHD_PRIVSEP_DIR)) return false;
  await ensureDirs([SSHD_PRIVSEP_DIR], 0o755);
  return true;
}

export async function ensureSshDaemons(
  store: StateStore,
  paths: LabPaths,
  topology: LabTopology,
  env: NodeJS.ProcessEnv,
): Promise<StepResult> {
  const listening = topology.nodes.map((n) => `${n.address}:${LAB_SSH_PORT}`).join(", ");
  return ensureNodeDaemons(
    store,
    topology.nodes,
    async (node) => {
      const nodePaths = paths.node(node.name);
      const config = sshdConfig(node, nodePaths, paths);
      if (await writeFileIfChanged(nodePaths.sshdConfig, config, 0o600)) {
        await run("/usr/sbin/sshd", ["-t", "-f", nodePaths.sshdConfig]);
      }
      // sshd refuses to start unless invoked by its absolute path (it re-executes itself). Entered
      // with nsenter --net, not `ip netns exec`: that remounts /sys, and a dockerd restarted from an
      // SSH session (deploy's step 0) would then find no cgroup hierarchy (LAB.md pitfall 1).
      const args = [
        `--net=/run/netns/${node.netns}`,
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        nodePaths.sshdConfig,
      ];
      return {
        key: processKey("sshd", node.name),
        command: "nsenter",
        args,
        env,
        logFile: logFile(paths, `${node.name}-sshd`),
        fingerprint: fingerprint(...args, config),
        ready: () => sshAnswers(node.address, LAB_SSH_PORT, 1_000),
        readyTimeoutMs: 15_000,
      };
    },
    (summary) => `sshd ${summary} on ${listening}`,
  );
}
