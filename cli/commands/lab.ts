import { type Command, InvalidArgumentError } from "commander";
import {
  type LabStatus,
  type LabSummary,
  labDown,
  labHealthy,
  labStatus,
  labUp,
  MAX_NODES,
  MIN_NODES,
  restartDockerDaemon,
  type StepEvent,
  statusDocument,
} from "../../lab/index.ts";
import { createLogger, defaultLogFormat, type Logger } from "../../support/logger.ts";
import { EXIT } from "../output.ts";

const MARKS: Record<StepEvent["status"], string> = { done: "✓", unchanged: "·", failed: "✗" };

/**
 * `✓ network: bridge hha-br0 10.77.0.1/24, 2 namespaces  (0.3 s)`. One line per step: a failure's
 * full text (a log tail) follows once, in the error printed at the end.
 */
export function formatStep(event: StepEvent): string {
  const detail = event.detail.split("\n")[0] ?? "";
  return `${MARKS[event.status]} ${event.step}: ${detail}  (${(event.durationMs / 1000).toFixed(1)} s)`;
}

export function formatUpSummary(summary: LabSummary): string {
  const changedSteps = summary.steps.filter((s) => s.status === "done").length;
  const verdict = summary.changed
    ? `${changedSteps} of ${summary.steps.length} steps changed something`
    : "nothing changed";
  const width = Math.max(...summary.nodes.map((n) => n.name.length), 6);
  return [
    `lab up in ${(summary.durationMs / 1000).toFixed(1)} s: ${verdict}`,
    `  ${"config".padEnd(width)}  ${summary.config}`,
    `  ${"env".padEnd(width)}  ${summary.env}  (set -a; . ${summary.env}; set +a)`,
    `  ${"redis".padEnd(width)}  ${summary.redisUrl}`,
    `  ${"vip".padEnd(width)}  ${summary.vip} (reserved for keepalived)`,
    `  ${"shared".padEnd(width)}  ${summary.sharedDir}`,
    ...summary.nodes.map(
      (n) =>
        `  ${n.name.padEnd(width)}  ${n.address}  ssh -i ${summary.sshKey} root@${n.address}  |  docker -H unix://${n.dockerSocket}`,
    ),
  ].join("\n");
}

export function formatStatus(status: LabStatus): string {
  if (!status.up) return status.reason;
  const word = (ok: boolean) => (ok ? "ok" : "DOWN");
  return [
    `lab ${labHealthy(status) ? "up" : "up, degraded"}: config ${status.config}, redis ${status.redisUrl}, vip ${status.vip}`,
    ...status.nodes.map(
      (n) => `  ${n.name}  ${n.address}  ssh ${word(n.ssh)}  docker ${word(n.docker)}  (${n.dockerSocket})`,
    ),
  ].join("\n");
}

function parseNodeCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < MIN_NODES || count > MAX_NODES) {
    throw new InvalidArgumentError(`a whole number from ${MIN_NODES} to ${MAX_NODES}`);
  }
  return count;
}

/** The lab's logger writes to stderr, errors only by default: the step lines on stdout are the output. */
function labLogger(program: Command): Logger {
  const options = program.opts<{ logFormat?: string; logLevel?: string }>();
  return createLogger({
    component: "cli",
    level: options.logLevel ?? "error",
    format: defaultLogFormat(process.stderr, options.logFormat),
    destination: process.stderr,
  });
}

const printStep = (event: StepEvent) => console.log(formatStep(event));

/**
 * `harbor-ha lab up|down|status`. Exit codes: 0 done; 1 failed, or for `status` the lab is not up
 * or a node does not answer SSH or Docker.
 */
export function registerLabCommands(
  program: Command,
  setExit: (code: number) => void = (code) => {
    process.exitCode = code;
  },
): void {
  const lab = program
    .command("lab")
    .description("the local two-node lab (network namespaces on this machine; needs root)");

  lab
    .command("up")
    .description("build or check the lab: every step is idempotent; a second run changes nothing")
    .option(
      "--nodes <n>",
      `number of nodes, ${MIN_NODES}..${MAX_NODES} (default: 2, or the running lab's)`,
      parseNodeCount,
    )
    .option("--no-agents", "do not start `harbor-ha agent` on the nodes")
    .action(async (options: { nodes?: number; agents: boolean }) => {
      const summary = await labUp({
        ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
        agents: options.agents,
        logger: labLogger(program),
        onStep: printStep,
      });
      console.log(formatUpSummary(summary));
      setExit(EXIT.ok);
    });

  lab
    .command("down")
    .description("remove everything lab up made (the image cache in ~/.cache/harbor-ha stays)")
    .action(async () => {
      const started = performance.now();
      await labDown({ logger: labLogger(program), onStep: printStep });
      console.log(`lab down in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      setExit(EXIT.ok);
    });

  lab
    .command("restart-docker")
    .description("restart one node's dockerd (the lab's `systemctl restart docker`, used by deploy)")
    .argument("<node>", "the lab node, e.g. node01")
    .action(async (node: string) => {
      await restartDockerDaemon(node);
      console.log(`dockerd on ${node} restarted`);
      setExit(EXIT.ok);
    });

  lab
    .command("status")
    .description("check each node for real: an SSH banner on port 22 and a Docker ping on its socket")
    .option("--json", "print the lab's paths and node checks as JSON")
    .action(async (options: { json?: boolean }) => {
      const status = await labStatus();
      if (!status.up) {
        console.error(status.reason);
        setExit(EXIT.failed);
        return;
      }
      console.log(options.json ? JSON.stringify(statusDocument(status), null, 2) : formatStatus(status));
      setExit(labHealthy(status) ? EXIT.ok : EXIT.failed);
    });
}
