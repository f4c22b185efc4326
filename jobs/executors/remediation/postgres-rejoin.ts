import { mkdir } from "node:fs/promises";
import type { NodeConfig } from "../../../config/schema.ts";
import type { PostgresFacts } from "../../../probes/observation.ts";
import { renderPgHba, renderPostgresqlConf } from "../../deploy/postgres-config.ts";
import type { RejoinFacts, RejoinRequest } from "../../remediation/contract.ts";
import {
  afterRewind,
  decideRunningRejoin,
  parseRewindOutput,
  rewindHint,
} from "../../remediation/rejoin-decision.ts";
import type { AgentContext } from "../agent-context.ts";
import { PostgresStepFailure, tail } from "../deploy/postgres-failure.ts";
import { basebackup } from "../deploy/postgres-one-shot.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { askFacts, isStreaming, waitForFacts, withSession } from "./postgres-client.ts";
import { inspectOurs, type PostgresHere, postgresHere, waitStarted } from "./postgres-node.ts";
import { STREAMING_WAIT_MS } from "./postgres-restart.ts";
import { rewind } from "./postgres-tools.ts";

/** The request's primary must be another node of this site, at the address the site gives it. */
function primaryOf(context: AgentContext, requested: RejoinRequest["primary"]): NodeConfig {
  const { site, node } = context;
  const primary = site.nodes.find((candidate) => candidate.name === requested.node);
  const problem = !primary
    ? `${requested.node} is not a node of site ${site.site}`
    : primary.name === node.name
      ? `${node.name} cannot rejoin itself`
      : primary.address !== requested.address
        ? `${primary.name}'s address is ${primary.address}, not ${requested.address}`
        : undefined;
  if (!primary || problem) {
    throw new ActionFailure(
      "bad-request",
      `postgres.rejoin on ${node.name}: ${problem}`,
      "the controller and the agent read different site configs? restart the agent after a config change",
    );
  }
  return primary;
}

/**
 * The primary must be one (out of recovery) and checkpointed: right after a promotion its
 * control file still names the old timeline, and pg_rewind then wrongly finds nothing to rewind
 * (LAB.md pitfall 8).
 */
async function checkpointPrimary(context: AgentContext, primary: NodeConfig, signal: AbortSignal) {
  const target = {
    host: primary.address,
    port: context.site.postgres.port,
    password: context.secrets.pgPassword,
  };
  const facts = await askFacts(target, signal, `the primary ${primary.name}`).catch((error: unknown) => {
    if (error instanceof ActionFailure) {
      throw new ActionFailure("primary-unreachable", error.message, `is ${primary.name}'s PostgreSQL up?`);
    }
    throw error;
  });
  if (facts.role !== "primary") {
    throw new ActionFailure(
      "primary-unreachable",
      `${primary.name} is not a primary (${facts.detail}): nothing to rejoin to`,
      `promote ${primary.name} first, or rejoin to the node that is primary`,
    );
  }
  await withSession(target, signal, (client) => client.query("checkpoint"));
}

function rejoinFacts(
  method: RejoinFacts["method"],
  divergedAt: string | null,
  facts: PostgresFacts,
): RejoinFacts {
  return {
    method,
    divergedAt,
    timeline: facts.timeline,
    walReceiver: facts.walReceiver?.status ?? null,
    senderHost: facts.walReceiver?.senderHost ?? null,
  };
}

/** Empties the folder and copies the primary into it: only with re-clone approved. */
async function reclone(context: AgentContext, here: PostgresHere, primary: NodeConfig): Promise<void> {
  // A node that never had a folder gets one; pg_basebackup's container gives it to postgres.
  await mkdir(here.folder.path, { recursive: true, mode: 0o700 });
  await here.folder.wipe();
  try {
    await basebackup(
      here.containers,
      context.site,
      context.node,
      primary,
      context.secrets.replicationPassword,
    );
  } catch (error) {
    if (!(error instanceof PostgresStepFailure)) throw error;
    throw new ActionFailure("reclone-failed", error.message, error.hint, error.outputTail);
  }
}

/**
 * postgres.rejoin: this node's PostgreSQL (an old primary, or a standby that lost its way)
 * becomes a streaming standby of the current primary. Kept down, it is rewound with pg_rewind
 * from the primary (checkpointed first), given the deploy's standby files (standby.signal and our
 * own primary_conninfo: LAB.md pitfall 10) and started. A failed rewind is a result
 * ("rewind-failed", with pg_rewind's output); only an approved request wipes the folder and
 * clones the primary with pg_basebackup. A server that still runs as a primary is refused.
 */
export const rejoinPostgres: RemediationAction<"postgres.rejoin"> = async (context, request, signal, run) => {
  const here = postgresHere(context);
  const primary = primaryOf(context, request.primary);
  const allowReclone = request.allowReclone === true;
  const state = await run.step("inspect", () => inspectOurs(here));
  if (state?.running) {
    const facts = await run.step("read its state", () => askFacts(here.target, signal, here.label));
    const decision = decideRunningRejoin(facts, primary.address);
    if (decision.kind === "already") {
      return run.already(
        `${here.label} is already a standby of ${primary.name}: ${decision.detail}`,
        rejoinFacts("none", null, facts),
      );
    }
    if (decision.kind === "refuse") {
      throw new ActionFailure(
        "still-running-primary",
        `${here.label}: ${decision.detail}`,
        "send postgres.fence first",
      );
    }
    await run.step(`stop ${here.spec.name} (${decision.detail})`, () => here.containers.stop(here.spec.name));
  }
  await run.step(`checkpoint on ${primary.name}`, () => checkpointPrimary(context, primary, signal));

  const folder = await here.folder.inspect();
  let method: RejoinFacts["method"] = "reclone";
  let divergedAt: string | null = null;
  if (folder.hasCluster) {
    // docker kill leaves postmaster.pid naming PID 1, which is alive in pg_rewind's container (pitfall 9).
    await here.folder.remove("postmaster.pid");
    const result = await run.step("pg_rewind", () =>
      rewind(
        here.containers,
        context.site,
        context.node,
        primary.address,
        context.secrets.pgPassword,
        signal,
      ),
    );
    const output = `${result.stdout}\n${result.stderr}`;
    const report = parseRewindOutput(output);
    divergedAt = report.divergedAt;
    const next = afterRewind(result.exitCode === 0, allowReclone);
    if (next === "fail") {
      throw new ActionFailure(
        "rewind-failed",
        `pg_rewind of ${here.label} from ${primary.name} failed (exit code ${result.exitCode}); it stays stopped`,
        rewindHint(output, allowReclone),
        tail(output),
        { method: "rewind", divergedAt },
      );
    }
    if (next === "start") method = report.noRewindRequired ? "none" : "rewind";
  } else if (!allowReclone) {
    throw new ActionFailure(
      "no-cluster",
      `${here.folder.path} on ${context.node.name} holds no cluster to rewind`,
      "rejoin with re-clone approved (allowReclone) to copy the primary with pg_basebackup",
    );
  }
  if (method === "reclone") {
    await run.step(`re-clone ${primary.name} with pg_basebackup`, () => reclone(context, here, primary));
  }
  const files = {
    "postgresql.conf": renderPostgresqlConf(context.site, context.node, {
      primary,
      replicationPassword: context.secrets.replicationPassword,
    }),
    "pg_hba.conf": renderPgHba(context.site),
    "standby.signal": "",
  };
  await run.step("write standby.signal and primary_conninfo", () => here.folder.write(files));
  await run.step(`start ${here.spec.name}`, () => here.containers.ensureRunning(here.spec));
  await run.step("wait until it answers", () => waitStarted(here, signal));
  const { facts, met } = await run.step(`verify streaming from ${primary.name}`, () =>
    waitForFacts(here.target, signal, Date.now() + STREAMING_WAIT_MS, (f) => isStreaming(f, primary.address)),
  );
  if (!met || !facts) {
    const now = facts ? facts.detail : "it does not answer";
    throw new ActionFailure(
      "not-streaming",
      `${here.label} started after ${method} but does not stream from ${primary.name} within ${STREAMING_WAIT_MS / 1000} s: ${now}`,
      `read docker logs ${here.spec.name}; a timeline it cannot follow needs a re-clone (allowReclone)`,
      undefined,
      { method, divergedAt },
    );
  }
  const how =
    method === "rewind"
      ? `rewound from ${divergedAt ?? "the divergence"}`
      : method === "reclone"
        ? "re-cloned with pg_basebackup"
        : "no rewind was needed";
  return run.done(
    `${here.label} rejoined as a standby of ${primary.name} (${how}), streaming on timeline ${facts.timeline ?? "?"}`,
    rejoinFacts(method, divergedAt, facts),
  );
};
