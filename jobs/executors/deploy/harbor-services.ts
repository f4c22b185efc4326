import type Docker from "dockerode";
import { COMPONENT_LABEL, type Containers, type EnsureResult } from "../../adapters/containers.ts";
import {
  type ComposeService,
  composeServices,
  HARBOR_COMPONENT,
  withInputsLabel,
} from "../../deploy/harbor-compose.ts";
import {
  describeHarborHealth,
  type HarborHealth,
  isHarborVersion,
  readHarborHealth,
  readHarborVersion,
} from "../../deploy/harbor-health.ts";
import { readTextIfExists } from "./harbor-files.ts";
import { sleep } from "./harbor-ports.ts";

/**
 * `compose up` for harbor.install: the services of the docker-compose.yml that prepare wrote,
 * started through the node's Docker API with the Containers adapter (spec-hash idempotence,
 * restart policy "no", harbor-ha's labels), and then Harbor's own health as the proof.
 */

/** The services to run, or undefined when prepare has not written a compose file yet. */
export async function readServices(
  composeFile: string,
  installDir: string,
  inputsHash: string,
): Promise<ComposeService[] | undefined> {
  const text = await readTextIfExists(composeFile);
  if (text === undefined) return undefined;
  return withInputsLabel(composeServices(text, installDir), inputsHash);
}

export interface ServicePlan {
  readonly name: string;
  readonly action: EnsureResult;
}

export async function planServices(containers: Containers, services: readonly ComposeService[]) {
  const plans: ServicePlan[] = [];
  for (const { spec } of services) plans.push({ name: spec.name, action: await containers.plan(spec) });
  return plans;
}

/** Harbor containers on this node that the compose file no longer names (a service an upgrade dropped). */
export async function staleHarborContainers(docker: Docker, keep: readonly string[]): Promise<string[]> {
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [`${COMPONENT_LABEL}=${HARBOR_COMPONENT}`] },
  });
  return listed
    .map((container) => (container.Names[0] ?? "").replace(/^\//, ""))
    .filter((name) => name !== "" && !keep.includes(name));
}

/** The host PIDs of the running Harbor containers' main processes (the node shares the host's PIDs). */
export async function harborContainerPids(docker: Docker): Promise<Set<number>> {
  const listed = await docker.listContainers({
    filters: { label: [`${COMPONENT_LABEL}=${HARBOR_COMPONENT}`] },
  });
  const pids = new Set<number>();
  for (const { Id } of listed) {
    const pid = (await docker.getContainer(Id).inspect()).State.Pid;
    if (pid > 0) pids.add(pid);
  }
  return pids;
}

export type Verification =
  | { readonly ok: true; readonly health: HarborHealth; readonly version: string; readonly ms: number }
  | { readonly ok: false; readonly kind: "exited"; readonly container: string; readonly exitCode: number }
  | { readonly ok: false; readonly kind: "unhealthy"; readonly reason: string }
  | { readonly ok: false; readonly kind: "version"; readonly reported: string };

/**
 * Polls the node's own `/api/v2.0/health` until it reads healthy. A service container that stops
 * meanwhile ends the wait at once: waiting longer would not bring it back.
 */
export async function verifyHarbor(
  containers: Containers,
  names: readonly string[],
  baseUrl: string,
  version: string,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<Verification> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  let reason = "no answer yet";
  for (;;) {
    for (const name of names) {
      const state = await containers.inspect(name);
      if (!state?.running)
        return { ok: false, kind: "exited", container: name, exitCode: state?.exitCode ?? -1 };
    }
    const reading = await readHarborHealth(baseUrl, 5_000);
    if (reading.ok && reading.health.healthy) {
      const reported = (await readHarborVersion(baseUrl)) ?? "no version reported";
      if (!isHarborVersion(reported, version)) return { ok: false, kind: "version", reported };
      return { ok: true, health: reading.health, version: reported, ms: performance.now() - started };
    }
    reason = reading.ok ? describeHarborHealth(reading.health) : reading.error;
    if (Date.now() >= deadline || signal.aborted) return { ok: false, kind: "unhealthy", reason };
    await sleep(250, signal);
  }
}
