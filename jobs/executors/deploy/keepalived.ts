import { errorMessage } from "../../../support/errors.ts";
import { Containers } from "../../adapters/containers.ts";
import { KeepalivedConfigError, roleFileContent } from "../../deploy/keepalived-conf.ts";
import { describeState } from "../../deploy/keepalived-notify.ts";
import {
  changedOutcome,
  type DeployStepRequest,
  failedOutcome,
  type StepOutcome,
  unchangedOutcome,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { configTestSpec } from "./keepalived-container.ts";
import { ensureDir, removeFile, replaceFile, writeAtomically } from "./keepalived-host.ts";
import { type KeepalivedPlan, planKeepalived, plannedChanges, priorityLine } from "./keepalived-plan.ts";
import { observeVip, type VipSeen, type VipWatch, waitForVip } from "./keepalived-verify.ts";

/** keepalived's graceful stop sends priority 0 and takes well under a second (LAB.md). */
const STOP_TIMEOUT_SECONDS = 10;

/**
 * Deploy step 2 on one node: keepalived in a host-network container, one VRRP instance with the
 * VIP, and the PostgreSQL role in a track_file so that the VIP follows the primary (DESIGN.md §4).
 * A changed config re-creates the container; a changed role only rewrites the role file, which
 * keepalived rereads without a restart.
 */
export async function deployKeepalived(
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const { site, node } = context;
  if (!site.nodes.some((candidate) => candidate.name === request.primaryNode)) {
    return failedOutcome(
      `primary node ${request.primaryNode} is not a node of site ${site.site}`,
      "the plan and the agent read different site configs: restart the agent after a config change",
    );
  }
  const containers = new Containers(context.docker);
  try {
    const plan = await planKeepalived(context, containers, request.primaryNode);
    if (request.mode === "check") return await check(context, containers, plan, request.primaryNode);
    return await apply(context, containers, plan, request.primaryNode, signal);
  } catch (error) {
    if (error instanceof KeepalivedConfigError) {
      return failedOutcome(`keepalived config for ${node.name}: ${error.message}`, "fix the site config");
    }
    if (signal.aborted) {
      return failedOutcome(`keepalived step on ${node.name} was cut off at its timeout`, "re-run the step");
    }
    return failedOutcome(`keepalived step on ${node.name} failed: ${errorMessage(error)}`, dockerHint(error));
  }
}

function observationLines(plan: KeepalivedPlan, seen: VipSeen, vip: string): string[] {
  return [
    `state ${describeState(seen.record)} (${plan.layout.stateFile})`,
    ...(seen.logged ? [`keepalived's log: instance entered ${seen.logged}`] : []),
    `VIP ${vip} held here: ${seen.vipHeld ? "yes" : "no"}`,
  ];
}

function watchOf(context: AgentContext, containers: Containers, plan: KeepalivedPlan, primaryNode: string) {
  const { site, node } = context;
  return {
    containers,
    container: plan.spec.name,
    layout: plan.layout,
    iface: site.vip.interface,
    vip: site.vip.address,
    node: node.name,
    primaryNode,
    role: plan.role,
    advertInt: site.keepalived.advertInt,
  } satisfies VipWatch;
}

async function check(
  context: AgentContext,
  containers: Containers,
  plan: KeepalivedPlan,
  primaryNode: string,
): Promise<StepOutcome> {
  const seen = await observeVip(watchOf(context, containers, plan, primaryNode), false);
  const output = [
    `config ${plan.layout.conf}`,
    priorityLine(plan, primaryNode),
    ...observationLines(plan, seen, context.site.vip.address),
  ];
  const changes = plannedChanges(plan);
  if (changes.length === 0) return unchangedOutcome(`${plan.spec.name} runs with this config`, output);
  return {
    status: "would-change",
    detail: `would ${changes.map((change) => change.short).join("; ")}`,
    output: [...changes.map((change) => `would ${change.long}`), ...output],
  };
}

async function apply(
  context: AgentContext,
  containers: Containers,
  plan: KeepalivedPlan,
  primaryNode: string,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const { site, node, logger } = context;
  const { layout } = plan;
  const changes = plannedChanges(plan);
  await ensureDir(layout.dir);
  if (plan.scriptChanged) await writeAtomically(layout.notifyScript, plan.notifyScript, 0o755);
  let raisedAt: number | undefined;
  if (plan.currentRole !== plan.role) {
    await writeAtomically(layout.roleFile, roleFileContent(plan.role), 0o644);
    if (plan.role === "primary") raisedAt = performance.now();
  }
  if (plan.confChanged || plan.container !== "running") {
    const rejected = await installConf(context, containers, plan);
    if (rejected) return rejected;
  }
  let restartedAt: number | undefined;
  if (plan.container !== "running") {
    // A graceful stop first: keepalived sends priority 0 and drops the VIP, so a peer takes
    // over at once; a forced removal would leave the VIP configured here (LAB.md pitfall 6).
    await containers.stop(plan.spec.name, STOP_TIMEOUT_SECONDS);
    await containers.remove(plan.spec.name);
    // The state file must come from the new keepalived, not from the one before.
    await removeFile(layout.stateFile);
    await containers.ensureRunning(plan.spec);
    restartedAt = performance.now();
  }
  if (changes.length > 0) {
    logger.info(
      { event: "keepalived.applied", changes: changes.map((c) => c.long) },
      "keepalived step applied",
    );
  }

  const watch: VipWatch = {
    ...watchOf(context, containers, plan, primaryNode),
    ...(restartedAt === undefined ? {} : { restartedAt }),
    ...(raisedAt === undefined ? {} : { raisedAt }),
  };
  const { verdict, seen, waitedMs } = await waitForVip(watch, signal);
  const output = [
    ...changes.map((change) => `${pastTense(change.long)}`),
    `config ${layout.conf}`,
    priorityLine(plan, primaryNode),
    ...observationLines(plan, seen, site.vip.address),
  ];
  logger.info(
    { event: "keepalived.verified", verdict: verdict.kind, waitedMs, vipHeld: seen.vipHeld },
    `keepalived on ${node.name}: ${verdict.summary}`,
  );
  switch (verdict.kind) {
    case "failed":
      return {
        ...failedOutcome(
          `keepalived on ${node.name}: ${verdict.summary}`,
          verdict.hint,
          significantLog(await containers.logsTail(plan.spec.name, 300)),
        ),
        output,
      };
    case "ok":
    case "pending": {
      const detail = `${plan.spec.name} ${changes.length > 0 ? "applied" : "unchanged"}, ${verdict.summary}`;
      return changes.length > 0 ? changedOutcome(detail, output) : unchangedOutcome(detail, output);
    }
  }
}

function pastTense(change: string): string {
  return change
    .replace(/^create /, "created ")
    .replace(/^re-create /, "re-created ")
    .replace(/^write /, "wrote ");
}

/**
 * Before keepalived is (re)started or its config replaced, the image's keepalived checks the
 * config (`keepalived -t`, one-shot container): a bad config or a broken image fails the step
 * while the running keepalived, and the VIP with it, stay as they are. The new config moves into
 * place only once it passed. Returns a failed outcome when the check fails.
 */
async function installConf(
  context: AgentContext,
  containers: Containers,
  plan: KeepalivedPlan,
): Promise<StepOutcome | undefined> {
  const { layout } = plan;
  await writeAtomically(layout.candidateConf, plan.conf, 0o644);
  const test = await containers.runOnce(configTestSpec(context.site, context.node, layout));
  if (test.exitCode !== 0) {
    await removeFile(layout.candidateConf);
    return failedOutcome(
      `keepalived -t failed for ${context.node.name}'s config (exit code ${test.exitCode}); the running keepalived was left alone`,
      `the output tail says why: a config line, or an image ${context.site.keepalived.image} whose keepalived cannot run`,
      `${test.stdout}${test.stderr}`.trim().split("\n").slice(-20).join("\n"),
    );
  }
  if (plan.confChanged) await replaceFile(layout.candidateConf, layout.conf);
  else await removeFile(layout.candidateConf);
  return undefined;
}

/** keepalived's log without the gratuitous ARP lines, which the periodic refresh repeats. */
function significantLog(log: string, lines = 25): string {
  return log
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.includes("gratuitous ARP"))
    .slice(-lines)
    .join("\n");
}

function dockerHint(error: unknown): string {
  const { code, statusCode } = error as { code?: string; statusCode?: number };
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EACCES") {
    return "the node's Docker daemon does not answer on its socket: start it (deploy step host.docker)";
  }
  if (statusCode === 404) return "the image is missing on the node: load it (the lab imports it at lab up)";
  return "read the agent's log on the node for the full error, then re-run the step";
}
