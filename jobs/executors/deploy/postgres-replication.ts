import { setTimeout as sleep } from "node:timers/promises";
import { Containers } from "../../adapters/containers.ts";
import { commitsWaitForStandby, postgresContainerName } from "../../deploy/postgres-config.ts";
import {
  judgeReplication,
  REPLICATION_QUERY,
  type ReplicationExpectation,
  type ReplicationObservation,
  type ReplicationVerdict,
} from "../../deploy/postgres-replication-checks.ts";
import {
  type DeployStepRequest,
  failedOutcome,
  type StepOutcome,
  unchangedOutcome,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { asOutcome, PostgresStepFailure } from "./postgres-failure.ts";
import { PostgresServer } from "./postgres-server.ts";

/** A standby that was just started needs a moment to connect and reach streaming. */
const SETTLE_MS = 15_000;
const POLL_MS = 500;

function expectation(context: AgentContext, request: DeployStepRequest): ReplicationExpectation {
  const { site, node } = context;
  const primary = site.nodes.find((candidate) => candidate.name === request.primaryNode);
  if (!primary) {
    throw new PostgresStepFailure(
      `the plan's primary ${request.primaryNode} is not a node of site ${site.site}`,
      `known nodes: ${site.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  return {
    node: node.name,
    role: primary.name === node.name ? "primary" : "standby",
    primary: { name: primary.name, address: primary.address },
    standbys: site.nodes
      .filter((n) => n.name !== primary.name)
      .map((n) => ({ name: n.name, address: n.address })),
    synchronous: commitsWaitForStandby(site),
  };
}

async function observeReplication(server: PostgresServer): Promise<ReplicationObservation> {
  const sql = JSON.parse(await server.run(REPLICATION_QUERY, "reading the replication views")) as Omit<
    ReplicationObservation,
    "clusterState"
  >;
  const control = await server.controlData();
  return { ...sql, clusterState: control.clusterState };
}

/**
 * runbook 1.5: the four replication checks on this node, read-only (check and apply alike). A
 * node that does not pass at once is watched for a few seconds: a standby started a moment ago
 * is still connecting.
 */
async function replicationStep(context: AgentContext, request: DeployStepRequest, signal: AbortSignal) {
  const expected = expectation(context, request);
  const containers = new Containers(context.docker);
  const name = postgresContainerName(context.node.name);
  const container = await containers.inspect(name);
  if (!container?.running) {
    throw new PostgresStepFailure(
      `${name} is not running on ${context.node.name}`,
      `run postgres.${expected.role} on ${context.node.name} first`,
    );
  }
  const server = new PostgresServer(containers, name, context.site.postgres.port);
  await server.waitReady(context.node.name, context.site.postgres.port, signal);
  const deadline = Date.now() + SETTLE_MS;
  let verdict: ReplicationVerdict = judgeReplication(expected, await observeReplication(server));
  while (verdict.transient && Date.now() < deadline) {
    await sleep(POLL_MS, undefined, { signal });
    verdict = judgeReplication(expected, await observeReplication(server));
  }
  const [first] = verdict.failures;
  if (first) {
    const more = verdict.failures.length > 1 ? ` (and ${verdict.failures.length - 1} more)` : "";
    return { ...failedOutcome(`${first.check}: ${first.message}${more}`, first.hint), output: verdict.lines };
  }
  const role = expected.role === "primary" ? "primary" : `standby of ${expected.primary.name}`;
  return unchangedOutcome(`${name} replicates as the ${role}: the four checks hold`, verdict.lines);
}

export function postgresReplication(
  context: AgentContext,
  request: DeployStepRequest,
  signal: AbortSignal,
): Promise<StepOutcome> {
  return asOutcome(context.node.name, () => replicationStep(context, request, signal));
}
