import type { DeployStepId, DeployStepRequest, StepOutcome } from "../../deploy/step-contract.ts";
import { failedOutcome } from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { harborInstall } from "./harbor-install.ts";
import { harborRedis } from "./harbor-redis.ts";
import { deployKeepalived } from "./keepalived.ts";
import { postgresPrimary } from "./postgres-primary.ts";
import { postgresReplication } from "./postgres-replication.ts";
import { postgresStandby } from "./postgres-standby.ts";

/**
 * A deploy step as its node's agent runs it. In "check" mode it changes nothing and says whether
 * "apply" would change anything; in "apply" mode it makes it so and verifies the result. A
 * failure is returned as a failed outcome (with the output tail and a hint), so its details
 * cross the queue intact.
 */
export type DeployStepExecutor = (
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
) => Promise<StepOutcome>;

const runsElsewhere =
  (where: string): DeployStepExecutor =>
  async (_context, request) =>
    failedOutcome(`${request.stepId} is not run by an agent`, `it runs ${where}; this is a bug in the plan`);

/** One executor per step; steps that the control plane runs itself say so if sent here. */
export const DEPLOY_EXECUTORS: { readonly [S in DeployStepId]: DeployStepExecutor } = {
  "host.docker": runsElsewhere("over SSH from the control plane"),
  "host.agent": runsElsewhere("over SSH from the control plane"),
  "postgres.primary": postgresPrimary,
  "postgres.standby": postgresStandby,
  "postgres.replication": postgresReplication,
  keepalived: deployKeepalived,
  "harbor.redis": harborRedis,
  "harbor.install": harborInstall,
  "harbor.client": runsElsewhere("on the control plane, as a client through the VIP"),
};

export async function runDeployStep(
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const executor = DEPLOY_EXECUTORS[request.stepId];
  if (!executor)
    return failedOutcome(`unknown deploy step ${request.stepId}`, "agent and control plane versions differ?");
  return executor(context, request, signal);
}
