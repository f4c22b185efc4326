import {
  HARBOR_DATABASE,
  postgresDataPath,
  renderPgHba,
  renderPostgresqlConf,
  SUPERUSER,
} from "../../deploy/postgres-config.ts";
import { decidePrimary } from "../../deploy/postgres-data-decision.ts";
import { scramVerifier } from "../../deploy/postgres-scram.ts";
import { accountChanges } from "../../deploy/postgres-server-state.ts";
import {
  changedOutcome,
  type DeployStepRequest,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { asOutcome, PostgresStepFailure } from "./postgres-failure.ts";
import { describePgError, queryAs } from "./postgres-network.ts";
import { initdb } from "./postgres-one-shot.ts";
import { requireImage, requireSecrets, serverParts } from "./postgres-parts.ts";
import { bringUp, observe, planServer, requireFreePort } from "./postgres-run.ts";

/** A client's view of the primary: scram login on the node's address, into Harbor's database. */
async function verifyPrimaryLogin(context: AgentContext): Promise<void> {
  const endpoint = {
    host: context.node.address,
    port: context.site.postgres.port,
    user: SUPERUSER,
    password: context.secrets.pgPassword,
  };
  let row: { recovery: boolean } | undefined;
  try {
    row = await queryAs<{ recovery: boolean }>(
      endpoint,
      HARBOR_DATABASE,
      "select pg_is_in_recovery() as recovery",
    );
  } catch (error) {
    throw new PostgresStepFailure(
      `a client cannot log in to the primary: ${describePgError(error, endpoint)}`,
      `check pg_hba.conf and listen_addresses in ${postgresDataPath(context.site, context.node)}`,
    );
  }
  if (row?.recovery !== false) {
    throw new PostgresStepFailure(
      `${context.node.name} answers but is in recovery`,
      "it is a standby: see postgres.replication",
    );
  }
}

/**
 * runbook 1 (primary): a PostgreSQL primary in container pg-NODE on the primary's node. It makes
 * a cluster only in an empty folder, and never touches a standby (it does not promote).
 */
async function primaryStep(context: AgentContext, request: DeployStepRequest, signal: AbortSignal) {
  const { site, node, secrets } = context;
  if (request.primaryNode !== node.name) {
    throw new PostgresStepFailure(
      `postgres.primary was sent to ${node.name}, but the plan's primary is ${request.primaryNode}`,
      "a bug in the plan: postgres.primary runs on the primary's node only",
    );
  }
  requireSecrets(context);
  await requireImage(context);
  const parts = serverParts(context);
  const roles = [SUPERUSER, site.postgres.replication.user];
  const observed = await observe(parts, roles, signal);
  const decision = decidePrimary(node.name, observed.folder, observed.live);
  if (decision.kind === "refuse") throw new PostgresStepFailure(decision.reason, decision.hint);

  const files = { "postgresql.conf": renderPostgresqlConf(site, node), "pg_hba.conf": renderPgHba(site) };
  const fresh = decision.kind === "initdb";
  const plan = await planServer(parts, files, observed, fresh);
  const targets = {
    replicationUser: site.postgres.replication.user,
    superuserPassword: secrets.pgPassword,
    replicationPassword: secrets.replicationPassword,
  };
  // A new cluster has only the superuser, without a password; a stopped one is read once it runs.
  const known = observed.live ?? (fresh ? { roles: [], databases: [] } : undefined);
  const accounts = known
    ? accountChanges(known, targets, (p) => scramVerifier(p)).map((a) => a.description)
    : [`check roles ${SUPERUSER}, ${targets.replicationUser} and database ${HARBOR_DATABASE} once it runs`];
  const changes = [
    ...(fresh ? [`initdb ${parts.folder.path} (data checksums, scram-sha-256)`] : []),
    ...plan.changes,
    ...accounts,
  ];
  if (plan.container !== "running") await requireFreePort(parts);

  const summary = `${parts.spec.name} runs the primary on ${node.address}:${site.postgres.port}`;
  if (request.mode === "check") {
    if (changes.length > 0) return { ...wouldChange(`would ${changes.join("; ")}`), output: changes };
    await verifyPrimaryLogin(context);
    return unchangedOutcome(`${summary} (system ${observed.live?.systemIdentifier})`);
  }

  if (fresh) await initdb(parts.containers, site, node);
  const done = [
    ...(fresh ? [`initdb ${parts.folder.path}`] : []),
    ...(await bringUp(parts, files, plan, signal)),
  ];
  const state = await parts.server.state(roles);
  if (state.inRecovery) {
    throw new PostgresStepFailure(
      `${parts.spec.name} came up in recovery`,
      "its folder holds a standby: see postgres.standby",
    );
  }
  for (const change of accountChanges(state, targets, (p) => scramVerifier(p))) {
    await parts.server.run(change.sql, change.description);
    done.push(change.done);
  }
  await verifyPrimaryLogin(context);
  const detail = `${summary} (system ${state.systemIdentifier})`;
  return done.length > 0 ? changedOutcome(`${detail}: ${done.join("; ")}`, done) : unchangedOutcome(detail);
}

export function postgresPrimary(
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
): Promise<StepOutcome> {
  return asOutcome(context.node.name, () => primaryStep(context, request, signal));
}
