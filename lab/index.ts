/**
 * The local lab (DESIGN.md §6): network namespaces as bare hosts with their own dockerd and sshd,
 * a bridge for the operations host, the control plane's Redis, and harbor-ha agents on each node.
 */
export { restartDockerDaemon } from "./docker-daemons.ts";
export { type LabDownOptions, labDown } from "./down.ts";
export { type LabNodePaths, type LabPaths, labPaths } from "./paths.ts";
export { readEnvFile } from "./secrets.ts";
export {
  type LabNodeStatus,
  type LabStatus,
  type LabUpStatus,
  labHealthy,
  labStatus,
  statusDocument,
} from "./status.ts";
export type { StepEvent, StepStatus } from "./steps.ts";
export {
  LAB_BRIDGE,
  LAB_HOST_ADDRESS,
  LAB_REDIS_URL,
  LAB_VIP,
  labTopology,
  MAX_NODES,
  MIN_NODES,
} from "./topology.ts";
export { type LabNodeSummary, type LabSummary, type LabUpOptions, labUp } from "./up.ts";
