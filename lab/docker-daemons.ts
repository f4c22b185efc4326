import { ensureNodeDaemons } from "./daemons.ts";
import { ensureDirs, fingerprint, writeFileIfChanged } from "./files.ts";
import { type LabNodePaths, type LabPaths, logFile } from "./paths.ts";
import { dockerAnswers } from "./probes.ts";
import { processKey, type StateStore } from "./state.ts";
import type { StepResult } from "./steps.ts";
import type { LabNode, LabTopology } from "./topology.ts";

/**
 * The node daemon's own config file. Passing one keeps the host's /etc/docker/daemon.json (meant
 * for a root-namespace dockerd) out of the nodes. The insecure registry is the runbook's step 0.
 */
export function dockerDaemonConfig(vip: string): string {
  return `${JSON.stringify({ "insecure-registries": [`${vip}:5000`], "log-driver": "json-file", "log-opts": { "max-size": "10m", "max-file": "3" } }, null, 2)}\n`;
}

/**
 * dockerd for one node, entered into the node's network namespace with `nsenter --net` only:
 * `ip netns exec` remounts /sys and hides the cgroup v1 hierarchy (LAB.md pitfall 1). No
 * bridge, NAT or iptables: containers use `--network host` and so listen on the node's address.
 */
export function dockerdArgs(node: LabNode, paths: LabNodePaths): string[] {
  return [
    `--net=/run/netns/${node.netns}`,
    "dockerd",
    `--config-file=${paths.dockerConfig}`,
    `--data-root=${paths.dockerDataRoot}`,
    `--exec-root=${paths.dockerExecRoot}`,
    `--pidfile=${paths.dockerPidFile}`,
    `--host=unix://${paths.dockerSocket}`,
    `--cgroup-parent=${paths.dockerCgroupParent}`,
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    "--userland-proxy=false",
  ];
}

export async function ensureDockerDaemons(
  store: StateStore,
  paths: LabPaths,
  topology: LabTopology,
  env: NodeJS.ProcessEnv,
): Promise<StepResult> {
  const sockets = topology.nodes.map((n) => paths.node(n.name).dockerSocket);
  return ensureNodeDaemons(
    store,
    topology.nodes,
    async (node) => {
      const nodePaths = paths.node(node.name);
      await ensureDirs([nodePaths.dockerDataRoot], 0o710);
      await ensureDirs([nodePaths.dockerExecRoot], 0o700);
      const config = dockerDaemonConfig(topology.vip);
      await writeFileIfChanged(nodePaths.dockerConfig, config, 0o644);
      const args = dockerdArgs(node, nodePaths);
      return {
        key: processKey("dockerd", node.name),
        command: "nsenter",
        args,
        env,
        logFile: logFile(paths, `${node.name}-dockerd`),
        fingerprint: fingerprint(...args, config),
        ready: () => dockerAnswers(nodePaths.dockerSocket),
        readyTimeoutMs: 60_000,
      };
    },
    (summary) => `dockerd ${summary} (${sockets.join(", ")})`,
  );
}
