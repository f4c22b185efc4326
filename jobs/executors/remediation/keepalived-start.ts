import { setTimeout as sleep } from "node:timers/promises";
import { describeState, parseStateLine, type StateRecord } from "../../deploy/keepalived-notify.ts";
import type { KeepalivedStartFacts } from "../../remediation/contract.ts";
import { configHash, keepalivedSpec } from "../deploy/keepalived-container.ts";
import { readTextIfExists, removeFile } from "../deploy/keepalived-host.ts";
import { settleMs } from "../deploy/keepalived-verify.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { holdsVip, type KeepalivedHere, keepalivedHere } from "./keepalived-node.ts";

const POLL_MS = 100;

async function recordedState(here: KeepalivedHere): Promise<StateRecord | undefined> {
  return parseStateLine(await readTextIfExists(here.layout.stateFile));
}

/**
 * keepalived.start: keepalived on this node runs again, from the config the deploy wrote. It
 * starts as BACKUP (every node does) and removes a VIP left on the interface (LAB.md pitfall 6);
 * then the role file's weight decides: a standby's node stays BACKUP and the VIP stays where the
 * primary is. The stopped container is made anew rather than restarted: a restart after a kill
 * finds the old pid files and keepalived exits with "daemon is already running".
 */
export const startKeepalived: RemediationAction<"keepalived.start"> = async (
  context,
  _request,
  signal,
  run,
) => {
  const here = keepalivedHere(context);
  const state = await run.step("inspect", () => here.containers.inspect(here.container));
  if (state?.running) {
    const [record, vipHeld] = await Promise.all([recordedState(here), holdsVip(here)]);
    return run.already(
      `${here.container} was already running: ${describeState(record)}, VIP ${vipHeld ? "held" : "not held"} here`,
      { wasRunning: true, state: record?.state ?? null, vipHeld } satisfies KeepalivedStartFacts,
    );
  }
  const [conf, script] = await Promise.all([
    readTextIfExists(here.layout.conf),
    readTextIfExists(here.layout.notifyScript),
  ]);
  if (conf === undefined || script === undefined) {
    throw new ActionFailure(
      "not-deployed",
      `${context.node.name} has no keepalived config in ${here.layout.dir}`,
      "deploy the site first (harbor-ha deploy)",
    );
  }
  // The label hashes the files on disk: a deploy whose rendering differs re-creates the container.
  const spec = keepalivedSpec(context.site, context.node, here.layout, configHash(conf, script));
  await run.step(`start ${here.container} anew`, async () => {
    await here.containers.remove(here.container);
    // The state file must come from the new keepalived, not from the one before.
    await removeFile(here.layout.stateFile);
    await here.containers.ensureRunning(spec);
  });
  const deadline = Date.now() + settleMs(context.site.keepalived.advertInt);
  const record = await run.step("wait for its first VRRP state", async () => {
    for (;;) {
      const current = await here.containers.inspect(here.container);
      if (!current?.running) {
        throw new ActionFailure(
          "start-failed",
          `${here.container} stopped right after its start (exit code ${current?.exitCode ?? "?"})`,
          "read its log below; a config the image's keepalived refuses needs a deploy",
          (await here.containers.logsTail(here.container, 20)).trimEnd(),
        );
      }
      const seen = await recordedState(here);
      if (seen) return seen;
      if (Date.now() >= deadline) return undefined;
      await sleep(POLL_MS, undefined, { signal });
    }
  });
  const vipHeld = await holdsVip(here);
  const facts: KeepalivedStartFacts = { wasRunning: false, state: record?.state ?? null, vipHeld };
  if (!record) {
    throw new ActionFailure(
      "timeout",
      `${here.container} runs but recorded no VRRP state within ${settleMs(context.site.keepalived.advertInt)} ms`,
      `is its notify script in place (${here.layout.notifyScript})? read docker logs ${here.container}`,
      undefined,
      { ...facts },
    );
  }
  return run.done(
    `started ${here.container}: ${describeState(record)}, VIP ${vipHeld ? "held" : "not held"} here`,
    facts,
  );
};
