import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { SiteKey } from "../../config/site-key.ts";
import { openControlPlaneRedis } from "../../support/control-plane-redis.ts";
import { HarborHaError } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import { connectSsh, type RemoteShell } from "../adapters/remote-shell.ts";
import { NodeJobs } from "../node-jobs.ts";
import {
  harborSecretsKey,
  loadOrCreateHarborSecrets,
  readHarborSecrets,
  type StoredHarborSecrets,
} from "./harbor-secrets-store.ts";
import { type AgentInstall, hostAgentStep } from "./host-agent.ts";
import { hostDockerStep } from "./host-docker.ts";
import {
  buildDeployPlan,
  choosePrimary,
  type DeployPlan,
  type ObservedPgRole,
  type PlannedStep,
} from "./plan.ts";
import { type DeployEvent, type DeploySummary, runPlan } from "./run-plan.ts";
import type { DeployStepRequest, HarborSharedSecrets, StepMode, StepOutcome } from "./step-contract.ts";

export interface DeployOptions {
  readonly site: SiteConfig;
  readonly secrets: SiteSecrets;
  /** Seals Harbor's shared secrets in Redis (read once by the entry point). */
  readonly siteKey: SiteKey;
  /** The controller's login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  /** What the agents get installed with, where one is missing. */
  readonly agentInstall: AgentInstall;
  readonly dryRun: boolean;
  readonly harborVersion?: string;
  readonly logger: Logger;
  readonly onEvent?: (event: DeployEvent) => void;
  /** Makes Harbor's shared secrets the first time (jobs/deploy/harbor-secrets.ts). */
  readonly generateHarborSecrets: () => HarborSharedSecrets;
  /** Runbook step 4, as a client through the VIP (jobs/deploy/harbor-client.ts). */
  readonly checkAsClient: (site: SiteConfig, adminPassword: string, mode: StepMode) => Promise<StepOutcome>;
}

export interface DeployResult {
  readonly plan: DeployPlan;
  readonly summary: DeploySummary;
}

/** A deploy step on an agent can pull a base backup: allow it its whole job timeout and more. */
const AGENT_STEP_WAIT_MS = 320_000;

async function observeRoles(site: SiteConfig, jobs: NodeJobs): Promise<Record<string, ObservedPgRole>> {
  const entries = await Promise.all(
    site.nodes.map(async (node): Promise<[string, ObservedPgRole]> => {
      try {
        const { result } = await jobs.send(node.name, "postgres.role", {}, { waitMs: 6_000 });
        return [node.name, result.role];
      } catch {
        // No agent yet (a bare host) or a silent one: the plan installs it first.
        return [node.name, "unknown"];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * What an agent's deploy step is sent. It names the sealed record of Harbor's secrets by digest
 * and carries no secret: BullMQ keeps payloads for hours, and anyone who can read Redis reads them.
 * A plaintext record (an older version's) is not named: agents open sealed records only.
 */
export function deployStepRequest(
  stepId: DeployStepRequest["stepId"],
  mode: StepMode,
  plan: Pick<DeployPlan, "primaryNode" | "harborVersion">,
  harborSecrets: StoredHarborSecrets | undefined,
): DeployStepRequest {
  return {
    stepId,
    mode,
    primaryNode: plan.primaryNode,
    harborVersion: plan.harborVersion,
    ...(harborSecrets && !harborSecrets.plaintext ? { harborSecretsDigest: harborSecrets.digest } : {}),
  };
}

/**
 * `harbor-ha deploy`: observes where the PostgreSQL primary is, plans the runbook's installation
 * around it, and runs the plan step by step — over SSH where no agent runs yet, through each
 * node's agent for the rest, and as a client through the VIP at the end.
 */
export async function deploySite(options: DeployOptions): Promise<DeployResult> {
  const { site, dryRun } = options;
  const jobs = new NodeJobs(site, options.siteKey, options.redis);
  const redis = openControlPlaneRedis(site.controlPlane, options.redis);
  redis.on("error", () => {});
  const shells = new Map<string, Promise<RemoteShell>>();
  const shellFor = (name: string) => {
    const node = site.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name}`);
    let shell = shells.get(name);
    if (!shell) {
      shell = connectSsh(node);
      shells.set(name, shell);
    }
    return { node, shell };
  };
  try {
    const roles = await observeRoles(site, jobs);
    options.logger.info({ event: "deploy.roles", roles }, "observed PostgreSQL roles");
    const primary = choosePrimary(site, roles);
    if ("conflict" in primary) {
      throw new HarborHaError(
        "DEPLOY_REFUSED",
        `two PostgreSQL primaries are running: ${primary.conflict.join(", ")}`,
        {
          action: "plan the deploy",
          hint: "a split brain is not a deploy's to settle: fence one node (harbor-ha failover, or stop its PostgreSQL by hand) first",
          context: { primaries: primary.conflict },
        },
      );
    }
    if ("refuse" in primary) {
      throw new HarborHaError("DEPLOY_REFUSED", primary.refuse.reason, {
        action: "plan the deploy",
        hint: primary.refuse.hint,
        context: { roles },
      });
    }
    const plan = buildDeployPlan(site, primary, options.harborVersion);
    // A dry run changes nothing, not even the control plane's own records.
    let harborSecrets: StoredHarborSecrets | undefined;
    if (dryRun) {
      harborSecrets = await readHarborSecrets(redis, site.site, options.siteKey);
    } else {
      const stored = await loadOrCreateHarborSecrets(
        redis,
        site.site,
        options.siteKey,
        options.generateHarborSecrets,
      );
      if (stored.migrated) {
        options.logger.info(
          { event: "deploy.harbor-secrets-sealed", record: harborSecretsKey(site.site) },
          "Harbor's shared secrets were stored in plain JSON by an older version: sealed them with the site key",
        );
      }
      harborSecrets = stored;
    }

    const execute = async (step: PlannedStep, mode: StepMode): Promise<StepOutcome> => {
      switch (step.id) {
        case "host.docker": {
          const { node, shell } = shellFor(step.node ?? "");
          return hostDockerStep(await shell, site, node, mode);
        }
        case "host.agent": {
          const { node, shell } = shellFor(step.node ?? "");
          return hostAgentStep(await shell, jobs, node, options.agentInstall, mode);
        }
        case "harbor.client":
          return options.checkAsClient(site, options.secrets.harborAdminPassword, mode);
        case "postgres.primary":
        case "postgres.standby":
        case "postgres.replication":
        case "keepalived":
        case "harbor.redis":
        case "harbor.install": {
          const request = deployStepRequest(step.id, mode, plan, harborSecrets);
          const { result } = await jobs.send(step.node ?? "", "deploy.step", request, {
            waitMs: AGENT_STEP_WAIT_MS,
          });
          return result;
        }
        default: {
          const unknown: never = step.id;
          throw new Error(`no runner for step ${String(unknown)}`);
        }
      }
    };
    const summary = await runPlan(plan, execute, {
      dryRun,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    return { plan, summary };
  } finally {
    await Promise.all([...shells.values()].map((shell) => shell.then((s) => s.close()).catch(() => {})));
    await jobs.close();
    redis.disconnect();
  }
}
