import type { NodeConfig } from "../../../config/schema.ts";
import {
  postgresContainerName,
  renderPgHba,
  renderPostgresqlConf,
  SUPERUSER,
} from "../../deploy/postgres-config.ts";
import type { ControlData } from "../../deploy/postgres-controldata.ts";
import { decideStandby } from "../../deploy/postgres-data-decision.ts";
import { parseConninfo } from "../../deploy/postgres-server-state.ts";
import {
  changedOutcome,
  type DeployStepRequest,
  failedOutcome,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { asOutcome, PostgresStepFailure } from "./postgres-failure.ts";
import { describePgError, identifySystem, type SystemIdentity } from "./postgres-network.ts";
import { basebackup, controlDataOffline } from "./postgres-one-shot.ts";
import { requireImage, requireSecrets, serverParts } from "./postgres-parts.ts";
import { bringUp, observe, planServer, requireFreePort } from "./postgres-run.ts";

function primaryOf(context: AgentContext, request: DeployStepRequest): NodeConfig {
  const { site, node } = context;
  if (request.primaryNode === node.name) {
    throw new PostgresStepFailure(
      `postgres.standby was sent to ${node.name}, which the plan makes the primary`,
      "a bug in the plan: postgres.standby runs on every node but the primary's",
    );
  }
  const primary = site.nodes.find((candidate) => candidate.name === request.primaryNode);
  if (!primary) {
    throw new PostgresStepFailure(
      `the plan's primary ${request.primaryNode} is not a node of site ${site.site}`,
      `agent and control plane read different site configs? known nodes: ${site.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  return primary;
}

/**
 * runbook 1 (standby): a streaming standby of the primary in container pg-NODE, cloned with
 * pg_basebackup from the primary's own address. A folder is wiped for a clone only when it holds
 * a copy (a standby of another cluster or an interrupted clone), never a primary's data.
 */
async function standbyStep(context: AgentContext, request: DeployStepRequest, signal: AbortSignal) {
  const { site, node, secrets } = context;
  const primary = primaryOf(context, request);
  requireSecrets(context);
  await requireImage(context);
  const parts = serverParts(context);
  const observed = await observe(parts, [SUPERUSER], signal);

  const endpoint = {
    host: primary.address,
    port: site.postgres.port,
    user: site.postgres.replication.user,
    password: secrets.replicationPassword,
  };
  let primaryIdentity: SystemIdentity | undefined;
  let primaryProblem = "";
  try {
    primaryIdentity = await identifySystem(endpoint);
  } catch (error) {
    primaryProblem = describePgError(error, endpoint);
  }
  const unreachable = `the primary ${primary.name} does not answer (${primaryProblem})`;
  const unreachableHint = `run postgres.primary on ${primary.name} first; it must accept ${endpoint.user} for replication`;
  if (!primaryIdentity && request.mode === "apply")
    throw new PostgresStepFailure(unreachable, unreachableHint);

  let control: ControlData | undefined;
  if (!observed.live && observed.folder.hasCluster)
    control = await controlDataOffline(parts.containers, site, node);
  const decision = decideStandby({
    node: node.name,
    primaryNode: primary.name,
    folder: observed.folder,
    ...(observed.live ? { live: observed.live } : {}),
    ...(control ? { control } : {}),
    ...(primaryIdentity ? { primarySystemIdentifier: primaryIdentity.systemIdentifier } : {}),
  });
  if (decision.kind === "refuse") throw new PostgresStepFailure(decision.reason, decision.hint);

  const source = { primary, replicationPassword: secrets.replicationPassword };
  const files = {
    "postgresql.conf": renderPostgresqlConf(site, node, source),
    "pg_hba.conf": renderPgHba(site),
    "standby.signal": "",
  };
  const fresh = decision.kind !== "keep";
  const wipe = decision.kind === "wipe-and-clone";
  const plan = await planServer(parts, files, observed, fresh);
  const clone = `clone ${primary.name} (${primary.address}:${site.postgres.port}) with pg_basebackup into ${parts.folder.path}`;
  const changes = [
    ...(wipe && observed.container?.running ? [`stop ${parts.spec.name}`] : []),
    ...(wipe ? [`empty ${parts.folder.path}: ${decision.reason}`] : []),
    ...(fresh ? [clone] : []),
    ...plan.changes,
  ];
  if (plan.container !== "running") await requireFreePort(parts);

  const summary = `${parts.spec.name} is a standby of ${primary.name} (${primary.address})`;
  if (request.mode === "check") {
    if (!primaryIdentity) {
      if (changes.length === 0)
        return failedOutcome(`cannot verify ${parts.spec.name}: ${unreachable}`, unreachableHint);
      changes.push(`(${unreachable})`);
    }
    if (changes.length > 0) return { ...wouldChange(`would ${changes.join("; ")}`), output: changes };
    verifyFollows(context, primary, observed.live?.primaryConninfo ?? "");
    return unchangedOutcome(summary);
  }

  const done: string[] = [];
  if (wipe) {
    if (observed.container?.running) {
      await parts.containers.stop(parts.spec.name);
      done.push(`stopped ${parts.spec.name}`);
    }
    await parts.folder.wipe();
    done.push(`emptied ${parts.folder.path}: ${decision.reason}`);
  }
  if (fresh) {
    await basebackup(parts.containers, site, node, primary, secrets.replicationPassword);
    done.push(`cloned ${primary.name} with pg_basebackup`);
  }
  done.push(...(await bringUp(parts, files, plan, signal)));

  const state = await parts.server.state([]);
  if (!state.inRecovery) {
    throw new PostgresStepFailure(
      `${parts.spec.name} came up as a primary, not a standby`,
      `stop it at once (docker stop ${parts.spec.name}): two primaries; then rejoin it (harbor-ha rejoin ${node.name})`,
    );
  }
  if (primaryIdentity && state.systemIdentifier !== primaryIdentity.systemIdentifier) {
    throw new PostgresStepFailure(
      `${parts.spec.name} holds system ${state.systemIdentifier}, ${primary.name} ${primaryIdentity.systemIdentifier}`,
      "it can never stream from this primary: move its data folder aside and re-run to clone it",
    );
  }
  verifyFollows(context, primary, state.primaryConninfo);
  return done.length > 0 ? changedOutcome(`${summary}: ${done.join("; ")}`, done) : unchangedOutcome(summary);
}

/** The effective primary_conninfo (postgresql.auto.conf could override ours) names the primary. */
function verifyFollows(context: AgentContext, primary: NodeConfig, conninfo: string): void {
  const pairs = parseConninfo(conninfo);
  const host = pairs.get("host");
  const applicationName = pairs.get("application_name");
  if (host !== primary.address || applicationName !== context.node.name) {
    throw new PostgresStepFailure(
      `${postgresContainerName(context.node.name)}'s primary_conninfo names host ${host ?? "none"} as ${applicationName ?? "no application_name"}, ` +
        `not ${primary.address} as ${context.node.name}`,
      "postgresql.auto.conf (ALTER SYSTEM) overrides it: remove primary_conninfo there (ALTER SYSTEM RESET primary_conninfo), then re-run",
    );
  }
}

export function postgresStandby(
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
): Promise<StepOutcome> {
  return asOutcome(context.node.name, () => standbyStep(context, request, signal));
}
