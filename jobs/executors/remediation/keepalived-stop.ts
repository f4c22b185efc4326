import { setTimeout as sleep } from "node:timers/promises";
import type { KeepalivedStopFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { holdsVip, type KeepalivedHere, keepalivedHere, removeVip } from "./keepalived-node.ts";

/** A graceful stop hands the VIP over in 0.63 s (LAB.md); SIGKILL after this would leave it behind. */
const STOP_TIMEOUT_SECONDS = 10;
const VIP_POLL_MS = 25;

/** Resolves once this node no longer holds the VIP (bounded by the stop's own timeout). */
async function vipReleased(here: KeepalivedHere): Promise<"vip-released"> {
  const deadline = Date.now() + STOP_TIMEOUT_SECONDS * 1000;
  while ((await holdsVip(here)) && Date.now() < deadline) await sleep(VIP_POLL_MS);
  return "vip-released";
}

/**
 * keepalived.stop: keepalived on this node stops gracefully (SIGTERM, Docker's default for its
 * container): it sends a priority-0 advert, so the peer takes the VIP at once instead of after
 * three missed adverts, and drops the VIP here. A VIP still configured afterwards, or without
 * any keepalived (left by a kill -9), is removed by hand: the node must hold no VIP.
 */
export const stopKeepalived: RemediationAction<"keepalived.stop"> = async (
  context,
  request,
  _signal,
  run,
) => {
  const here = keepalivedHere(context);
  const state = await run.step("inspect", () => here.containers.inspect(here.container));
  const wasRunning = state?.running ?? false;
  if (wasRunning) {
    // keepalived exits about a second after SIGTERM, but its priority-0 advert and the VIP's
    // removal come first, and they are all a failover's fence waits for (untilVipReleased): the
    // step ends at whichever is first, and the exit completes on its own (docker SIGKILLs it
    // after the timeout).
    // A node without the VIP has nothing to hand over: it waits for the exit, so what comes next
    // (a rejoin's plan) sees keepalived stopped.
    const handOver = request.untilVipReleased === true && (await holdsVip(here));
    const exited = here.containers.stop(here.container, STOP_TIMEOUT_SECONDS).then(() => "exited" as const);
    exited.catch(() => {});
    const first = await run.step(`stop ${here.container} (SIGTERM, priority 0 advert)`, () =>
      handOver ? Promise.race([exited, vipReleased(here)]) : exited,
    );
    const after = first === "exited" ? await here.containers.inspect(here.container) : undefined;
    if (after?.running) {
      throw new ActionFailure(
        "stop-failed",
        `${here.container} still runs after docker stop`,
        `stop it by hand (docker kill ${here.container}), then send keepalived.stop again`,
      );
    }
  }
  let vipRemovedByHand = false;
  if (await run.step("check the VIP", () => holdsVip(here))) {
    await run.step(`remove the VIP ${here.vip} left on ${here.iface}`, () => removeVip(here));
    vipRemovedByHand = true;
    if (await holdsVip(here)) {
      throw new ActionFailure(
        "vip-still-held",
        `${context.node.name} still holds the VIP ${here.vip} after ip addr del`,
        `remove it by hand: ip addr del ${here.vip}/${here.prefix} dev ${here.iface}`,
        undefined,
        { wasRunning, vipRemovedByHand },
      );
    }
  }
  const facts: KeepalivedStopFacts = { wasRunning, vipRemovedByHand };
  const left = vipRemovedByHand ? `; removed the VIP ${here.vip} it had left behind` : "";
  if (!wasRunning && !vipRemovedByHand) {
    return run.already(`${here.container} was already stopped; ${context.node.name} holds no VIP`, facts);
  }
  return run.done(
    `${wasRunning ? `stopped ${here.container}` : `${here.container} was stopped`}${left}; ${context.node.name} holds no VIP`,
    facts,
  );
};
