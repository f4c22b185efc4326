import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeDataPath } from "../../config/node-paths.ts";
import type { NodeConfig } from "../../config/schema.ts";
import { outputTail, type RemoteShell, shellQuote } from "../adapters/remote-shell.ts";
import type { NodeJobs } from "../node-jobs.ts";
import { ensureSiteKeyOnNode, type SiteKeyInstall } from "./site-key-install.ts";
import {
  changedOutcome,
  failedOutcome,
  type StepMode,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "./step-contract.ts";

/** This installation's CLI: a node runs the agent from the same path (the lab shares the filesystem). */
const CLI_ENTRY = fileURLToPath(new URL("../../bin/harbor-ha.js", import.meta.url));

export interface AgentInstall {
  /** The site config's text, copied to the node. */
  readonly configText: string;
  /** The secrets as the environment variables the site config names. */
  readonly env: Readonly<Record<string, string>>;
  /** The site key, installed at the same path on the node (the agent refuses to start without it). */
  readonly siteKey: SiteKeyInstall;
  /** Per node, the variables only that node gets (its agent's Redis password). */
  readonly nodeEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * The supervisor: restarts the agent whenever it exits, until its pid file is removed. (On a
 * systemd host a unit with Restart=always does this job; the lab has no systemd.)
 */
export function supervisorScript(node: string, dir: string, nodeBinary: string, cli: string): string {
  return [
    "#!/bin/sh",
    `# harbor-ha agent for ${node}, written by harbor-ha deploy. Stop: rm ${dir}/supervisor.pid`,
    `cd ${shellQuote(dir)} || exit 1`,
    "set -a; . ./agent.env; set +a",
    "echo $$ > supervisor.pid",
    'while [ -f supervisor.pid ] && [ "$(cat supervisor.pid)" = "$$" ]; do',
    `  ${shellQuote(nodeBinary)} ${shellQuote(cli)} agent --node ${shellQuote(node)} --config ${shellQuote(join(dir, "site.yaml"))} >> agent.log 2>&1`,
    "  sleep 1",
    "done",
    "",
  ].join("\n");
}

async function pingAgent(jobs: NodeJobs, node: string, waitMs: number): Promise<number | undefined> {
  try {
    return (await jobs.send(node, "ping", { sentAt: Date.now() }, { waitMs })).result.agentPid;
  } catch {
    return undefined;
  }
}

/**
 * Runbook step 0, second half: the node's agent runs under supervision and answers ping. An
 * answering agent is left alone; a silent one is installed over SSH (config, secrets, supervisor)
 * unless a supervisor already runs there, in which case the agent's log says why it is silent.
 */
export async function hostAgentStep(
  shell: RemoteShell,
  jobs: NodeJobs,
  node: NodeConfig,
  install: AgentInstall,
  mode: StepMode,
): Promise<StepOutcome> {
  const key = await ensureSiteKeyOnNode(shell, install.siteKey, mode === "apply");
  if (key.status === "failed") {
    return failedOutcome(key.detail, "check the node's disk and permissions", key.outputTail);
  }
  const keyNote =
    key.status === "installed"
      ? `site key ${install.siteKey.key.fingerprint} installed at ${install.siteKey.file}`
      : `site key ${install.siteKey.key.fingerprint} in place`;
  // A ping answered means the agent verified a job signed with this very key.
  const answering = await pingAgent(jobs, node.name, 3_000);
  if (answering !== undefined) {
    if (key.status === "installed")
      return changedOutcome(`${keyNote}; agent pid ${answering} answering ping`);
    if (key.status === "would-install")
      return wouldChange(`would install the site key at ${install.siteKey.file}`);
    return unchangedOutcome(`agent pid ${answering} answering ping; ${keyNote}`);
  }
  const dir = nodeDataPath(node, "agent");
  const supervised = await shell.run(
    `kill -0 "$(cat ${shellQuote(join(dir, "supervisor.pid"))} 2>/dev/null)" 2>/dev/null`,
  );
  if (supervised.code === 0) {
    const log = await shell.run(`tail -n 15 ${shellQuote(join(dir, "agent.log"))}`);
    return failedOutcome(
      `the agent on ${node.name} is supervised but does not answer ping`,
      `read ${join(dir, "agent.log")} on ${node.name}; can it reach the control-plane Redis?`,
      outputTail(log),
    );
  }
  if (mode === "check") {
    const andKey = key.status === "would-install" ? ` and the site key at ${install.siteKey.file}` : "";
    return wouldChange(`would install the agent in ${dir}${andKey} over SSH and start it`);
  }

  const env = { ...install.env, ...install.nodeEnv?.[node.name] };
  const envText = `${Object.entries(env)
    .map(([key, value]) => `${key}=${shellQuote(value)}`)
    .join("\n")}\nHARBOR_HA_LOG_FORMAT=json\n`;
  const steps: Array<[string, string, string | undefined]> = [
    ["create the folder", `mkdir -p ${shellQuote(dir)} && chmod 700 ${shellQuote(dir)}`, undefined],
    ["copy the site config", `cat > ${shellQuote(join(dir, "site.yaml"))}`, install.configText],
    ["write the secrets", `umask 077 && cat > ${shellQuote(join(dir, "agent.env"))}`, envText],
    [
      "write the supervisor",
      `cat > ${shellQuote(join(dir, "run.sh"))} && chmod 700 ${shellQuote(join(dir, "run.sh"))}`,
      supervisorScript(node.name, dir, process.execPath, CLI_ENTRY),
    ],
    [
      "start the supervisor",
      `setsid nohup sh ${shellQuote(join(dir, "run.sh"))} > /dev/null 2>&1 < /dev/null &`,
      undefined,
    ],
  ];
  for (const [what, command, stdin] of steps) {
    const result = await shell.run(command, stdin === undefined ? {} : { stdin });
    if (result.code !== 0) {
      return failedOutcome(
        `could not ${what} on ${node.name}`,
        "check the node's disk and permissions",
        outputTail(result),
      );
    }
  }
  const pid = await pingAgent(jobs, node.name, 30_000);
  if (pid === undefined) {
    const log = await shell.run(`tail -n 15 ${shellQuote(join(dir, "agent.log"))}`);
    return failedOutcome(
      `the agent on ${node.name} started but does not answer ping`,
      `read ${join(dir, "agent.log")} on ${node.name}`,
      outputTail(log),
    );
  }
  return changedOutcome(`agent installed in ${dir}, supervised, pid ${pid} answering ping; ${keyNote}`);
}
