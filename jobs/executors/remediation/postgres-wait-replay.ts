import { lsnDistance, parseLsn } from "../../../probes/postgres-facts.ts";
import { JOB_POLICIES } from "../../job-types.ts";
import type { WaitReplayFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { waitForFacts } from "./postgres-client.ts";
import { postgresHere, requireContainer } from "./postgres-node.ts";

const DEFAULT_WAIT_MS = 30_000;
/** Room under the job's timeout to answer with a result instead of being cut off. */
const ANSWER_MARGIN_MS = 5_000;

export function waitBudgetMs(requested: number | undefined): number {
  const ceiling = JOB_POLICIES["postgres.wait-replay"].timeoutMs - ANSWER_MARGIN_MS;
  return Math.max(0, Math.min(requested ?? DEFAULT_WAIT_MS, ceiling));
}

/**
 * postgres.wait-replay: waits until this node's standby has replayed up to an LSN (the primary's
 * after block-writes), so that promoting it loses nothing. Not reached in time is a result with
 * how far behind it still is.
 */
export const waitReplay: RemediationAction<"postgres.wait-replay"> = async (
  context,
  request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  const target = parseLsn(request.lsn);
  if (target === undefined) {
    throw new ActionFailure(
      "bad-request",
      `postgres.wait-replay: ${JSON.stringify(request.lsn)} is not an LSN`,
      "send an LSN such as 0/3000148",
    );
  }
  const state = await run.step("inspect", () => requireContainer(here));
  if (!state.running) {
    throw new ActionFailure(
      "not-running",
      `${here.label} is not running`,
      "start it first (postgres.restart)",
    );
  }
  const budget = waitBudgetMs(request.timeoutMs);
  const reached = (replayed: string | null) => (parseLsn(replayed) ?? -1n) >= target;
  let polls = 0;
  const { facts, met, error } = await run.step(`wait for replay of ${request.lsn}`, () =>
    waitForFacts(here.target, signal, Date.now() + budget, (f) => {
      polls += 1;
      return f.role !== "standby" || reached(f.replayedLsn);
    }),
  );
  const replayedLsn = facts?.replayedLsn ?? null;
  const result: WaitReplayFacts = {
    targetLsn: request.lsn,
    replayedLsn,
    behindBytes: lsnDistance(request.lsn, replayedLsn),
  };
  if (facts && facts.role !== "standby") {
    throw new ActionFailure(
      "not-standby",
      `${here.label} is not a standby (${facts.detail}): it replays nothing`,
      "wait on the standby that is to be promoted",
      undefined,
      { ...result },
    );
  }
  if (!met) {
    throw new ActionFailure(
      "timeout",
      `${here.label} replayed ${replayedLsn ?? (error ? `nothing (${error})` : "nothing")}, ${result.behindBytes ?? "?"} bytes short of ${request.lsn} after ${budget} ms`,
      "is it streaming? a switchover should wait longer or be called off (postgres.allow-writes on the primary)",
      undefined,
      { ...result },
    );
  }
  const detail = `${here.label} has replayed ${replayedLsn} (target ${request.lsn})`;
  return polls === 1 ? run.already(detail, result) : run.done(detail, result);
};
