import { labPaths } from "./paths.ts";
import { dockerAnswers, sshAnswers } from "./probes.ts";
import { readState } from "./state.ts";
import { LAB_REDIS_URL, LAB_SSH_PORT, labTopology } from "./topology.ts";

export interface LabNodeStatus {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly dockerSocket: string;
  /** The node's sshd answered with an SSH banner on its address, port 22. */
  readonly ssh: boolean;
  /** The node's dockerd answered a ping on its socket. */
  readonly docker: boolean;
}

export interface LabUpStatus {
  readonly up: true;
  readonly config: string;
  readonly env: string;
  readonly vip: string;
  readonly redisUrl: string;
  readonly nodes: readonly LabNodeStatus[];
}

export type LabStatus = LabUpStatus | { readonly up: false; readonly reason: string };

/** Whether every node answers both checks. */
export function labHealthy(status: LabStatus): boolean {
  return status.up && status.nodes.every((node) => node.ssh && node.docker);
}

/** The `lab status --json` document: the up status without its discriminant. */
export function statusDocument(status: LabUpStatus): Omit<LabUpStatus, "up"> {
  const { up: _up, ...document } = status;
  return document;
}

/** Reads the lab's state and checks each node for real: an SSH banner and a Docker ping. */
export async function labStatus(): Promise<LabStatus> {
  const paths = labPaths();
  const state = await readState(paths.stateFile);
  if (!state) return { up: false, reason: `the lab is not up (no ${paths.stateFile})` };
  const topology = labTopology(state.nodeCount);
  const nodes = await Promise.all(
    topology.nodes.map(async (node) => {
      const dockerSocket = paths.node(node.name).dockerSocket;
      const [ssh, docker] = await Promise.all([
        sshAnswers(node.address, LAB_SSH_PORT),
        dockerAnswers(dockerSocket),
      ]);
      return { name: node.name, address: node.address, netns: node.netns, dockerSocket, ssh, docker };
    }),
  );
  return {
    up: true,
    config: paths.config,
    env: paths.env,
    vip: topology.vip,
    redisUrl: LAB_REDIS_URL,
    nodes,
  };
}
