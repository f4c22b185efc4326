import type { PostgresFacts } from "../../../probes/observation.ts";
import { lsnDistance, parseLsn } from "../../../probes/postgres-facts.ts";
import { liveUpstream, walReceiverTimeoutMs } from "../../primary-lease.ts";
import type { PromoteFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { askFacts, readFacts, verifyWrite, waitForFacts, withSession } from "./postgres-client.ts";
import { setCommitsAlone } from "./postgres-durability.ts";
import { postgresHere, requireContainer } from "./postgres-node.ts";

/** Beyond the receiver's own timeout: the poll's period and a margin for a loaded host. */
const UPSTREAM_GRACE_MS = 2_000;

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
 * A standby whose WAL receiver streams from a primary is not promoted: that primary is alive, and
 * promoting beside it makes two (jobs/primary-lease.ts). After a fence its stream ends at once;
 * a stream from a node the controller could not fence ends only if the link is down, within a
 * wal_receiver_timeout; still streaming after that, the old primary is alive and cut off from the
 * controller alone, and it goes on serving. With `quietMs` (the old primary only presumed fenced),
 * the link must also have been quiet that long, as this agent saw it.
 */
async function awaitQuietUpstream(
  context: Parameters<RemediationAction<"postgres.promote">>[0],
  target: ReturnType<typeof postgresHere>["target"],
  signal: AbortSignal,
  quietMs: number,
): Promise<void> {
  const receiverTimeoutMs = walReceiverTimeoutMs(context.site.policy.probeIntervalMs);
  const started = Date.now();
  const deadline = started + Math.max(receiverTimeoutMs, quietMs) + UPSTREAM_GRACE_MS;
  const seen = (facts: PostgresFacts) => {
    context.upstream.saw(facts);
    return liveUpstream(facts) === null && context.upstream.quietForMs() >= quietMs;
  };
  const { facts, met, error } = await waitForFacts(target, signal, deadline, seen);
  if (met) return;
  const sender = facts ? liveUpstream(facts) : null;
  if (sender !== null) {
    throw new ActionFailure(
      "upstream-alive",
      `${context.node.name} still receives WAL from ${sender} ${((Date.now() - started) / 1000).toFixed(0)} s after it was asked to promote: that primary is alive, and promoting this standby would make two primaries`,
      `no failover: the old primary keeps serving (it is likely cut off from the control host only; check that network). To fail over anyway, stop its PostgreSQL by hand first, then /harbor failover`,
    );
  }
  throw new ActionFailure(
    "postgres-failed",
    `${context.node.name}'s standby could not be read while waiting for its upstream to go quiet: ${error ?? "no answer"}`,
    "read its log (docker logs on its node)",
  );
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
  await run.step("wait for the old primary's stream to end", () =>
    awaitQuietUpstream(context, here.target, signal, request.upstreamQuietMs ?? 0),
  );
  const received = furthest(before.receivedLsn, before.replayedLsn);
  const lossBytes =
    request.oldPrimaryLastLsn === undefined ? null : lsnDistance(request.oldPrimaryLastLsn, received);
  const learnt = {
    receivedLsn: before.receivedLsn,
    replayedLsn: before.replayedLsn,
    replayLagBytes: before.replayLagBytes,
    lossBytes,
  };
  if (request.commitAlone !== undefined) {
    const alone = request.commitAlone;
    await run.step(alone ? "commit alone" : "commit as configured", () =>
      setCommitsAlone(here.target, signal, alone, here.label),
    );
  }
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
