import type { PostgresFacts } from "../../../probes/observation.ts";
import type { RestartFacts } from "../../remediation/contract.ts";
import { mayRestart } from "../../remediation/rejoin-decision.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { isStreaming, waitForFacts } from "./postgres-client.ts";
import { type PostgresHere, postgresHere, requireContainer, waitStarted } from "./postgres-node.ts";

/** A standby that just started connects to its primary in about a second. */
export const STREAMING_WAIT_MS = 30_000;

/**
 * Waits until a standby streams (from `senderHost` when given); a primary is ready as soon as it
 * answers. Fails with the WAL receiver's last status when the standby does not stream in time.
 */
export async function verifyRole(
  here: PostgresHere,
  signal: AbortSignal,
  senderHost?: string,
): Promise<PostgresFacts> {
  const { facts, met, error } = await waitForFacts(
    here.target,
    signal,
    Date.now() + STREAMING_WAIT_MS,
    (f) => f.role === "primary" || isStreaming(f, senderHost),
  );
  if (met && facts) return facts;
  const receiver = facts?.walReceiver
    ? `its WAL receiver is ${facts.walReceiver.status} from ${facts.walReceiver.senderHost ?? "nowhere"}`
    : facts
      ? "it has no WAL receiver"
      : `it does not answer (${error ?? "no answer"})`;
  throw new ActionFailure(
    "not-streaming",
    `${here.label} runs but does not stream${senderHost ? ` from ${senderHost}` : ""} after ${STREAMING_WAIT_MS / 1000} s: ${receiver}`,
    "is its primary up, and does primary_conninfo name it? read docker logs of both",
  );
}

function restartFacts(wasRunning: boolean, facts: PostgresFacts): RestartFacts {
  return {
    wasRunning,
    role: facts.role === "primary" ? "primary" : "standby",
    walReceiver: facts.walReceiver?.status ?? null,
    senderHost: facts.walReceiver?.senderHost ?? null,
  };
}

function describe(here: PostgresHere, facts: PostgresFacts): string {
  if (facts.role === "primary") return `${here.label} runs as the primary`;
  return `${here.label} runs as a standby, streaming from ${facts.walReceiver?.senderHost ?? "?"}`;
}

/**
 * postgres.restart: starts this node's stopped PostgreSQL container as it is (the runbook's
 * start-pg.sh crontab, for a standby that died), then waits until it answers and, as a standby,
 * streams. A folder without standby.signal holds a primary: it is started only when the request
 * allows it, or a fenced old primary would come back as a second primary.
 */
export const restartPostgres: RemediationAction<"postgres.restart"> = async (
  context,
  request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  const state = await run.step("inspect", () => requireContainer(here));
  if (state.running) {
    const facts = await run.step("verify", () => verifyRole(here, signal));
    return run.already(`${describe(here, facts)}; it was running already`, restartFacts(true, facts));
  }
  const folder = await here.folder.inspect();
  if (!folder.hasCluster) {
    throw new ActionFailure(
      "not-deployed",
      `${here.folder.path} on ${context.node.name} holds no cluster: nothing to start`,
      "rejoin this node (postgres.rejoin with re-clone approved) or deploy it",
    );
  }
  if (!mayRestart(folder.standbySignal, request.allowPrimary === true)) {
    throw new ActionFailure(
      "would-start-primary",
      `${here.label} holds a primary's folder (no standby.signal): starting it could make a second primary`,
      "rejoin it as a standby of the current primary (postgres.rejoin), or restart with allowPrimary when no other primary exists",
    );
  }
  await run.step(`start ${here.spec.name}`, () => here.containers.start(here.spec.name));
  await run.step("wait until it answers", () => waitStarted(here, signal));
  const facts = await run.step("verify streaming", () => verifyRole(here, signal));
  return run.done(`started ${here.spec.name}: ${describe(here, facts)}`, restartFacts(false, facts));
};
