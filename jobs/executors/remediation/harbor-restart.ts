import { setTimeout as sleep } from "node:timers/promises";
import { COMPONENT_LABEL, Containers } from "../../adapters/containers.ts";
import { HARBOR_COMPONENT } from "../../deploy/harbor-compose.ts";
import {
  describeHarborHealth,
  type HarborHealth,
  harborBaseUrl,
  readHarborHealth,
} from "../../deploy/harbor-health.ts";
import type { HarborRestartFacts } from "../../remediation/contract.ts";
import { chooseTargets, failingComponents, type HarborContainer } from "../../remediation/harbor-targets.ts";
import type { AgentContext } from "../agent-context.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";

const SERVICE_LABEL = "io.harbor-ha.compose-service";
const STOP_TIMEOUT_SECONDS = 10;
const HEALTHY_WAIT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 5_000;

/** Harbor's containers on this node: its services (component harbor) and its own Redis (harbor-redis). */
async function harborContainers(context: AgentContext): Promise<HarborContainer[]> {
  const listed = await context.docker.listContainers({ all: true, filters: { label: [COMPONENT_LABEL] } });
  return listed
    .filter((c) => {
      const component = c.Labels[COMPONENT_LABEL] ?? "";
      return component === HARBOR_COMPONENT || component.startsWith(`${HARBOR_COMPONENT}-`);
    })
    .map((c) => ({
      name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
      service: c.Labels[SERVICE_LABEL],
      running: c.State === "running",
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function health(baseUrl: string): Promise<HarborHealth | undefined> {
  const reading = await readHarborHealth(baseUrl, HEALTH_TIMEOUT_MS);
  return reading.ok ? reading.health : undefined;
}

function describe(reading: HarborHealth | undefined): string {
  return reading ? describeHarborHealth(reading) : "no answer from the health endpoint";
}

/**
 * harbor.restart: restarts the named Harbor components on this node, or every unhealthy one,
 * then waits for Harbor's own health on the node. Still unhealthy afterwards is a result naming
 * the failing components (a database reached through the VIP is nothing a restart here fixes).
 */
export const restartHarbor: RemediationAction<"harbor.restart"> = async (context, request, signal, run) => {
  const containers = new Containers(context.docker);
  const baseUrl = harborBaseUrl(context.node.address, context.site.harbor.httpPort);
  const [listed, before] = await run.step("read Harbor's containers and health", () =>
    Promise.all([harborContainers(context), health(baseUrl)]),
  );
  if (listed.length === 0) {
    throw new ActionFailure(
      "not-deployed",
      `${context.node.name} runs no Harbor containers`,
      "deploy the site first",
    );
  }
  const choice = chooseTargets(listed, before, request.components);
  if (!choice.ok) {
    throw new ActionFailure(
      "unknown-component",
      `no Harbor container on ${context.node.name} is called ${choice.unknown.join(", ")}`,
      `its containers: ${listed.map((c) => `${c.name}${c.service ? ` (${c.service})` : ""}`).join(", ")}`,
    );
  }
  if (choice.targets.length === 0) {
    const facts: HarborRestartFacts = {
      restarted: [],
      health: describe(before),
      failing: failingComponents(before),
    };
    if (before?.healthy)
      return run.already(`Harbor on ${context.node.name} is ${describe(before)}: nothing to restart`, facts);
    throw new ActionFailure(
      "still-unhealthy",
      `Harbor on ${context.node.name} is ${describe(before)}, and no container here serves what fails`,
      "fix the failing component named (the database and Redis are reached through the VIP and harborRedis)",
      undefined,
      { ...facts },
    );
  }
  for (const name of choice.targets) {
    await run.step(`restart ${name}`, async () => {
      await containers.stop(name, STOP_TIMEOUT_SECONDS);
      await containers.start(name);
    });
  }
  const deadline = Date.now() + HEALTHY_WAIT_MS;
  const after = await run.step("wait until Harbor is healthy", async () => {
    for (;;) {
      const reading = await health(baseUrl);
      if (reading?.healthy || Date.now() >= deadline) return reading;
      await sleep(250, undefined, { signal });
    }
  });
  const facts: HarborRestartFacts = {
    restarted: choice.targets,
    health: describe(after),
    failing: failingComponents(after),
  };
  const restarted = `restarted ${choice.targets.join(", ")} (${choice.why.join("; ")})`;
  if (!after?.healthy) {
    throw new ActionFailure(
      "still-unhealthy",
      `${restarted}; Harbor on ${context.node.name} is still ${describe(after)}`,
      "the failing components need a person: read their logs (docker logs) on the node",
      undefined,
      { ...facts },
    );
  }
  return run.done(`${restarted}; Harbor on ${context.node.name} is ${describe(after)}`, facts);
};
