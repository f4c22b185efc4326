import { fileURLToPath } from "node:url";
import { ensureNodeDaemons } from "./daemons.ts";
import { fingerprint, readTextIfExists } from "./files.ts";
import { type LabPaths, logFile } from "./paths.ts";
import { type ProcessRecord, readRunLog } from "./processes.ts";
import { agentSecrets, readEnvFile } from "./secrets.ts";
import { processKey, type StateStore } from "./state.ts";
import type { StepResult } from "./steps.ts";
import type { LabNode, LabTopology } from "./topology.ts";

/** The repository this lab module belongs to: its bin/harbor-ha.js is what the agents run. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL("../bin/harbor-ha.js", import.meta.url));

/**
 * The agent logs this event (JSON, HARBOR_HA_LOG_FORMAT=json) once it consumes its queue: the
 * lab waits for it rather than for a fixed time. It comes within the first lines of a run.
 */
export const AGENT_READY_EVENT = "agent.ready";

export async function agentReady(record: ProcessRecord): Promise<boolean> {
  return (await readRunLog(record, "start", 64 * 1024)).includes(`"event":"${AGENT_READY_EVENT}"`);
}

/** `ip netns exec` is fine for the agent: it needs the node's network, not the cgroup hierarchy. */
export function agentArgs(node: LabNode, configFile: string, nodeBinary: string): string[] {
  return [
    "netns",
    "exec",
    node.netns,
    nodeBinary,
    CLI_ENTRY,
    "agent",
    "--node",
    node.name,
    "--config",
    configFile,
  ];
}

/**
 * The agent's environment, built rather than inherited: the secrets from the lab's env file, JSON
 * logs, and only the basics of the caller's environment (a test runner's variables such as
 * NODE_TEST_CONTEXT must not leak into a daemon).
 */
export function agentEnv(
  base: NodeJS.ProcessEnv,
  secrets: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "LANG", "TZ"]) if (base[key] !== undefined) env[key] = base[key];
  return { ...env, ...secrets, HARBOR_HA_LOG_FORMAT: "json" };
}

export async function ensureAgents(
  store: StateStore,
  paths: LabPaths,
  topology: LabTopology,
  baseEnv: NodeJS.ProcessEnv,
  nodeBinary: string,
): Promise<StepResult> {
  const secrets = await readEnvFile(paths.env);
  // A new config or new secrets restart the agents: they read both only at start-up.
  const inputs = [(await readTextIfExists(paths.config)) ?? "", (await readTextIfExists(paths.env)) ?? ""];
  return ensureNodeDaemons(
    store,
    topology.nodes,
    (node) => {
      const args = agentArgs(node, paths.config, nodeBinary);
      return {
        key: processKey("agent", node.name),
        command: "ip",
        args,
        env: agentEnv(baseEnv, agentSecrets(secrets, node.name)),
        cwd: REPO_ROOT,
        logFile: logFile(paths, `${node.name}-agent`),
        fingerprint: fingerprint(...args, ...inputs),
        ready: agentReady,
        readyTimeoutMs: 30_000,
      };
    },
    (summary) => `harbor-ha agent ${summary}`,
  );
}
