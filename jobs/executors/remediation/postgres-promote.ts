import type { PostgresFacts } from "../../../probes/observation.ts";
import { lsnDistance, parseLsn } from "../../../probes/postgres-facts.ts";
import type { PromoteFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { askFacts, readFacts, verifyWrite, withSession } from "./postgres-client.ts";
import { postgresHere, requireContainer } from "./postgres-node.ts";

/** pg_promote's own wait: replaying what the standby received comes first, then the switch. */
const PROMOTE_WAIT_SECONDS = 30;

/** The later of two LSNs (a standby's replay can pass its receiver's after a restart). */
function furthest(a: string | null, b: string | null): string | null {
  const x = parseLsn(a);
  const y = parseLsn(b);
  if (x === undefined) return b;
  if (y === undefined) return a;
  return x >= y ? a : b;
}

function primaryFacts(facts: PostgresFacts): Pick<PromoteFacts, "timeline" | "currentLsn"> {
  return { timeline: facts.timeline, currentLsn: facts.currentLsn };
}

/**
 * postgres.promote: this node's standby becomes the primary (pg_promote, waiting for it), then
 * shows it: out of recovery, on a new timeline, and a row written. It reports what the standby
 * had received and replayed before, and, given the fenced old primary's end of WAL, how many
 * bytes the failover lost. A node that is already primary is success ("already primary"); a
 * stopped container is refused: promoting needs a running standby.
 */
export const promotePostgres: RemediationAction<"postgres.promote"> = async (
  context,
  request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  const writer = `agent-${context.node.name}`;
  const state = await run.step("inspect", () => requireContainer(here));
  if (!state.running) {
    throw new ActionFailure(
      "not-running",
      `${here.label} is not running: there is no standby to promote`,
      "start it first (postgres.restart), or promote another node's standby",
    );
  }
  const before = await run.step("read the standby's state", () => askFacts(here.target, signal, here.label));
  if (before.role === "primary") {
    await run.step("verify a write", () => withSession(here.target, signal, (c) => verifyWrite(c, writer)));
    return run.already(
      `${here.label} is already primary, timeline ${before.timeline ?? "?"} at ${before.currentLsn ?? "?"}; it accepts writes`,
      {
        ...primaryFacts(before),
        receivedLsn: null,
        replayedLsn: null,
        replayLagBytes: null,
        lossBytes: null,
      } satisfies PromoteFacts,
    );
  }
  const received = furthest(before.receivedLsn, before.replayedLsn);
  const lossBytes =
    request.oldPrimaryLastLsn === undefined ? null : lsnDistance(request.oldPrimaryLastLsn, received);
  const learnt = {
    receivedLsn: before.receivedLsn,
    replayedLsn: before.replayedLsn,
    replayLagBytes: before.replayLagBytes,
    lossBytes,
  };
  const promoted = await run.step("pg_promote", () =>
    withSession(here.target, signal, async (client) => {
      const result = await client.query<{ promoted: boolean }>(
        "select pg_promote(wait => true, wait_seconds => $1) as promoted",
        [PROMOTE_WAIT_SECONDS],
      );
      return result.rows[0]?.promoted === true;
    }),
  );
  if (!promoted) {
    throw new ActionFailure(
      "promote-failed",
      `${here.label} did not leave recovery within ${PROMOTE_WAIT_SECONDS} s of pg_promote`,
      `read its log (docker logs ${here.spec.name}); it may still be replaying a long backlog`,
      undefined,
      learnt,
    );
  }
  const after = await run.step("verify a write", () =>
    withSession(here.target, signal, async (client) => {
      const facts = await readFacts(client);
      if (facts.role === "primary") await verifyWrite(client, writer);
      return facts;
    }),
  );
  if (after.role !== "primary") {
    throw new ActionFailure(
      "promote-failed",
      `pg_promote returned, yet ${here.label} is still in recovery`,
      `read its log (docker logs ${here.spec.name})`,
      undefined,
      learnt,
    );
  }
  const lag =
    before.replayLagBytes === null ? "" : ` and replayed all but ${before.replayLagBytes} bytes of it`;
  const loss = lossBytes === null ? "" : `; ${lossBytes} bytes of the old primary's WAL never arrived`;
  return run.done(
    `promoted ${here.label}: timeline ${after.timeline ?? "?"} at ${after.currentLsn ?? "?"}, accepting writes; ` +
      `before, it had received ${received ?? "nothing"}${lag}${loss}`,
    { ...primaryFacts(after), ...learnt } satisfies PromoteFacts,
  );
};
