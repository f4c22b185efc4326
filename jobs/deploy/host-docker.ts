import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import { outputTail, type RemoteShell, shellQuote } from "../adapters/remote-shell.ts";
import { mergeDaemonConfig, parseDaemonConfig } from "./daemon-config.ts";
import {
  changedOutcome,
  failedOutcome,
  type StepMode,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "./step-contract.ts";

const DOCKER_VERSION = "docker version --format '{{.Server.Version}}'";

/** Waits (bounded) for the daemon to answer again after a restart. */
async function dockerAnswers(shell: RemoteShell, socket: string, attempts = 30): Promise<string | undefined> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const result = await shell.run(`DOCKER_HOST=unix://${socket} ${DOCKER_VERSION}`);
    if (result.code === 0) return result.stdout.trim();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

/**
 * Runbook step 0 on one host, over SSH (the agent may not run yet): Docker present and
 * answering, daemon.json with the insecure registry at VIP:5000 and json-file rotation; the
 * daemon is restarted only when the file changed.
 */
export async function hostDockerStep(
  shell: RemoteShell,
  site: SiteConfig,
  node: NodeConfig,
  mode: StepMode,
): Promise<StepOutcome> {
  const socket = node.dockerSocket;
  const version = await shell.run(`DOCKER_HOST=unix://${socket} ${DOCKER_VERSION}`);
  if (version.code !== 0) {
    return failedOutcome(
      `Docker on ${node.name} does not answer on ${socket}`,
      `start the Docker daemon on ${node.name} (${node.dockerRestartCommand}), or fix nodes[].dockerSocket; then re-run deploy`,
      outputTail(version),
    );
  }
  const file = node.dockerConfigFile;
  const read = await shell.run(`cat ${shellQuote(file)} 2>/dev/null || true`);
  let current: Record<string, unknown>;
  try {
    current = parseDaemonConfig(read.stdout);
  } catch (error) {
    return failedOutcome(
      `${file} on ${node.name} is not valid JSON: ${(error as Error).message}`,
      "fix or remove the file by hand (deploy does not overwrite a file it cannot read)",
      read.stdout.slice(0, 400),
    );
  }
  const { config, changes } = mergeDaemonConfig(current, `${site.vip.address}:${site.harbor.httpPort}`);
  const dockerLine = `Docker ${version.stdout.trim()} answering on ${socket}`;
  if (changes.length === 0) return unchangedOutcome(`${dockerLine}; ${file} already right`);
  if (mode === "check")
    return wouldChange(`would set in ${file}: ${changes.join("; ")}, then restart Docker`);

  const text = `${JSON.stringify(config, null, 2)}\n`;
  const write = await shell.run(
    `mkdir -p "$(dirname ${shellQuote(file)})" && cat > ${shellQuote(`${file}.tmp`)} && mv ${shellQuote(`${file}.tmp`)} ${shellQuote(file)}`,
    {
      stdin: text,
    },
  );
  if (write.code !== 0) {
    return failedOutcome(
      `cannot write ${file} on ${node.name}`,
      "check the file's folder and permissions",
      outputTail(write),
    );
  }
  const restart = await shell.run(node.dockerRestartCommand);
  if (restart.code !== 0) {
    return failedOutcome(
      `${file} written, but \`${node.dockerRestartCommand}\` failed on ${node.name}`,
      "restart Docker by hand or fix nodes[].dockerRestartCommand; re-running deploy will restart it again",
      outputTail(restart),
    );
  }
  const after = await dockerAnswers(shell, socket);
  if (!after) {
    return failedOutcome(
      `Docker on ${node.name} did not come back after the restart`,
      `look at the daemon's log on ${node.name}: the new ${file} may hold a setting it refuses`,
    );
  }
  return changedOutcome(`set ${changes.join("; ")} in ${file}; Docker ${after} restarted and answering`);
}
