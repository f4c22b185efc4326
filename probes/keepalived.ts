import type Docker from "dockerode";
import { KEEPALIVED_COMPONENT } from "../jobs/deploy/keepalived-conf.ts";
import { parseStateLine } from "../jobs/deploy/keepalived-notify.ts";
import { readTextIfExists } from "../support/files.ts";
import { listManagedContainers } from "./managed-containers.ts";
import type { KeepalivedFacts, ManagedContainer, ProbeReading } from "./observation.ts";
import { readProbe } from "./reading.ts";

/**
 * keepalived's facts from its container and the notify script's state file (pure). The state
 * file keeps the last state even after keepalived was killed (a SIGKILL runs no notify): the
 * `running` flag is what says whether that state still holds.
 */
export function keepalivedFacts(
  containers: readonly ManagedContainer[],
  stateText: string | undefined,
): KeepalivedFacts {
  const record = parseStateLine(stateText);
  return {
    running: containers.some((container) => container.state === "running"),
    state: record?.state ?? null,
    since: record?.at ?? null,
    priority: record?.priority ?? null,
  };
}

/**
 * This node's keepalived: is its managed container running, and which VRRP state it last
 * entered. `confirmRunning` right after a Docker event (managed-containers.ts).
 */
export function probeKeepalived(
  docker: Docker,
  stateFile: string,
  timeoutMs: number,
  confirmRunning = false,
): Promise<ProbeReading<KeepalivedFacts>> {
  return readProbe(timeoutMs, "keepalived probe", async (signal) => {
    const [containers, stateText] = await Promise.all([
      listManagedContainers(docker, signal, { component: KEEPALIVED_COMPONENT, confirmRunning }),
      readTextIfExists(stateFile),
    ]);
    return keepalivedFacts(containers, stateText);
  });
}
