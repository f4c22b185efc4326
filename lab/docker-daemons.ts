import { HarborHaError } from "../support/errors.ts";
import { type DaemonSpec, daemonEnv, ensureDaemon, ensureNodeDaemons } from "./daemons.ts";
import { ensureDirs, exists, fingerprint, writeFileIfChanged } from "./files.ts";
import { type LabNodePaths, type LabPaths, labPaths, logFile } from "./paths.ts";
import { dockerAnswers } from "./probes.ts";
import { stopProcesses } from "./processes.ts";
import { processKey, readState, StateStore } from "./state.ts";
import type { StepResult } from "./steps.ts";
import { type LabNode, type LabTopology, labTopology } from "./topology.ts";

/**
 * The node daemon's own config file. Passing one keeps the host's /etc/docker/daemon.json (meant
 * for a root-namespace dockerd) out of the nodes. The insecure registry is the runbook's step 0.
 */
/**
 * A bare host's daemon.json, written only when there is none: deploy's host.docker step adds what
 * the site needs (insecure registry, log rotation) and restarts the daemon, as on a real host.
 */
export const BARE_DAEMON_CONFIG = "{}\n";

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
    (node) => dockerdSpec(paths, node, env),
    (summary) => `dockerd ${summary} (${sockets.join(", ")})`,
  );
}

/**
 * How one node's dockerd runs. Its daemon.json is not part of the fingerprint: deploy edits it
 * and restarts the daemon itself, and a later `lab up` must not restart it again.
 */
async function dockerdSpec(paths: LabPaths, node: LabNode, env: NodeJS.ProcessEnv): Promise<DaemonSpec> {
  const nodePaths = paths.node(node.name);
  await ensureDirs([nodePaths.dockerDataRoot], 0o710);
  await ensureDirs([nodePaths.dockerExecRoot], 0o700);
  if (!(await exists(nodePaths.dockerConfig)))
    await writeFileIfChanged(nodePaths.dockerConfig, BARE_DAEMON_CONFIG);
  const args = dockerdArgs(node, nodePaths);
  return {
    key: processKey("dockerd", node.name),
    command: "nsenter",
    args,
    env,
    logFile: logFile(paths, `${node.name}-dockerd`),
    fingerprint: fingerprint(...args),
    ready: () => dockerAnswers(nodePaths.dockerSocket),
    readyTimeoutMs: 60_000,
  };
}

/**
 * `harbor-ha lab restart-docker NODE`: what `systemctl restart docker` is on a real host, for
 * deploy's host.docker step (the lab's site config names it as the node's restart command).
 */
export async function restartDockerDaemon(nodeName: string): Promise<void> {
  const paths = labPaths();
  const state = await readState(paths.stateFile);
  const node = state ? labTopology(state.nodeCount).nodes.find((n) => n.name === nodeName) : undefined;
  if (!state || !node) {
    throw new HarborHaError("LAB_NOT_UP", state ? `no lab node ${nodeName}` : "the lab is not up", {
      action: `restart dockerd on ${nodeName}`,
      hint: "run `harbor-ha lab up` first",
    });
  }
  const store = new StateStore(paths.stateFile, state);
  const record = state.processes[processKey("dockerd", nodeName)];
  if (record) await stopProcesses([record], 30_000);
  await ensureDaemon(store, await dockerdSpec(paths, node, daemonEnv(process.env)));
}
