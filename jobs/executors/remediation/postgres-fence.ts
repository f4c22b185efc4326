import type { FenceFacts } from "../../remediation/contract.ts";
import type { WalEnd } from "../../remediation/wal-end.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { answers } from "./postgres-client.ts";
import { inspectOurs, postgresHere } from "./postgres-node.ts";
import { readWalEnd } from "./postgres-tools.ts";

/** A fast shutdown takes a tenth of a second (LAB.md); a checkpoint of many dirty pages, longer. */
const STOP_TIMEOUT_SECONDS = 20;
/** A sound server answers `select 1` in milliseconds, even under load. */
const ANSWER_TIMEOUT_MS = 1_000;

function describeEnd(end: WalEnd | undefined): string {
  if (!end?.lastLsn) return "no WAL to read";
  const source = end.lsnSource === "end-of-wal" ? "end of WAL" : "last checkpoint only";
  return `${source} ${end.lastLsn} on timeline ${end.timeline ?? "?"}, cluster ${end.clusterState}`;
}

/**
 * postgres.fence: this node's PostgreSQL stops accepting writes and stays stopped. The container
 * gets its own stop signal (SIGINT, a fast shutdown: LAB.md pitfall 11) and restart policy "no",
 * so neither Docker nor a daemon restart brings it back; only postgres.restart or a rejoin does.
 * Then the end of its WAL is read from the stopped folder: that, not what the server said a moment
 * before it stopped, is everything it ever wrote, and the failover's data loss is measured to it.
 */
export const fencePostgres: RemediationAction<"postgres.fence"> = async (context, _request, signal, run) => {
  const here = postgresHere(context, false);
  const name = here.spec.name;
  const state = await run.step("inspect", () => inspectOurs(here));
  const wasRunning = state?.running ?? false;
  let policyChanged = false;
  if (state) {
    if (wasRunning) {
      // A server that does not answer cannot shut down either: waiting out docker's stop timeout
      // would hold the failover for nothing. It is killed; the rejoin's crash recovery copes.
      // Without the password the question cannot be asked: stop gracefully then.
      if (!here.target.password || (await answers(here.target, ANSWER_TIMEOUT_MS))) {
        await run.step(`stop ${name} (SIGINT, fast shutdown)`, () =>
          here.containers.stop(name, STOP_TIMEOUT_SECONDS),
        );
      } else {
        await run.step(`kill ${name} (it does not answer within ${ANSWER_TIMEOUT_MS} ms)`, () =>
          here.containers.stop(name, 0),
        );
      }
    }
    const policy = await here.containers.restartPolicy(name);
    if (policy && policy !== "no") {
      await run.step(`set ${name}'s restart policy to no (was ${policy})`, () =>
        here.containers.disableRestart(name),
      );
      policyChanged = true;
    }
    const after = await here.containers.inspect(name);
    if (after?.running) {
      throw new ActionFailure(
        "stop-failed",
        `${here.label} still runs after docker stop`,
        `stop it by hand (docker kill ${name}) and fence again`,
      );
    }
  }
  const folder = await here.folder.inspect();
  const end = folder.hasCluster
    ? await run.step("read the end of WAL", () =>
        readWalEnd(here.containers, context.site, context.node, signal),
      )
    : undefined;
  const facts: FenceFacts = {
    wasRunning,
    lastLsn: end?.lastLsn ?? null,
    timeline: end?.timeline ?? null,
    clusterState: end?.clusterState ?? null,
    lsnSource: end?.lsnSource ?? null,
  };
  if (!state) return run.already(`${here.label}: no container, nothing runs; ${describeEnd(end)}`, facts);
  if (wasRunning) return run.done(`fenced ${here.label}: stopped, stays stopped; ${describeEnd(end)}`, facts);
  if (policyChanged) {
    return run.done(`${here.label} was stopped; its restart policy is now no; ${describeEnd(end)}`, facts);
  }
  return run.already(`${here.label} was already stopped and stays so; ${describeEnd(end)}`, facts);
};
