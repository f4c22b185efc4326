import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { Containers } from "../../adapters/containers.ts";
import { ComposeError } from "../../deploy/harbor-compose.ts";
import { describeHarborHealth, readHarborHealth } from "../../deploy/harbor-health.ts";
import {
  changedOutcome,
  failedOutcome,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { createHarborDatabase } from "./harbor-database.ts";
import {
  BundleInvalid,
  runPrepare,
  unpackBundle,
  writeFileIfChanged,
  writeInstalled,
} from "./harbor-files.ts";
import {
  type HarborSurvey,
  type HarborTarget,
  harborTarget,
  isTarget,
  plannedFileChanges,
  surveyHarbor,
} from "./harbor-install-survey.ts";
import { listenerPids, listenersOn, probePort } from "./harbor-ports.ts";
import {
  harborContainerPids,
  planServices,
  readServices,
  staleHarborContainers,
  verifyHarbor,
} from "./harbor-services.ts";
import type { DeployStepExecutor } from "./index.ts";

/**
 * harbor.install, on every node: the offline installer unpacked to the node's Harbor dataDir,
 * harbor.yml rendered from the site config, the site's shared secrets installed, prepare run,
 * the services of its docker-compose.yml started, and Harbor's health on the node's own address
 * as the proof. A request for another version than the one installed is that node's upgrade.
 */

const COMPOSE_HINT =
  "the bundle's prepare wrote a docker-compose.yml that harbor-ha cannot run: rebuild the bundle";
const SERVICE_VERB = { created: "create", recreated: "recreate", started: "start" } as const;

/**
 * Harbor's port held by anything but Harbor's own containers. The core listens on every address
 * of the node (so it serves the VIP when the VIP comes), so any listener on the port is in its way.
 */
async function portTaken(context: AgentContext): Promise<StepOutcome | undefined> {
  const port = context.site.harbor.httpPort;
  if ((await probePort("0.0.0.0", port)) !== "in-use") return undefined;
  const listeners = await listenersOn(port);
  const ours = await harborContainerPids(context.docker);
  if (listenerPids(listeners).some((pid) => ours.has(pid))) return undefined;
  return failedOutcome(
    `port ${port} on ${context.node.name} is already in use by another process`,
    `Harbor serves on port ${port} (harbor.httpPort): stop what listens there (ss -ltnp 'sport = :${port}' on ${context.node.name}), then re-run the deploy`,
    listeners,
  );
}

async function check(
  context: AgentContext,
  target: HarborTarget,
  survey: HarborSurvey,
): Promise<StepOutcome> {
  const changes = plannedFileChanges(target, survey);
  const containers = new Containers(context.docker);
  let services: Awaited<ReturnType<typeof readServices>>;
  try {
    services = survey.prepare
      ? undefined
      : await readServices(target.layout.composeFile, target.layout.installDir, survey.inputsHash);
  } catch (error) {
    if (!(error instanceof ComposeError)) throw error;
    return failedOutcome(
      `cannot start Harbor's services on ${context.node.name}: ${error.message}`,
      COMPOSE_HINT,
    );
  }
  const plans = services ? await planServices(containers, services) : [];
  if (!services) changes.push("start the services prepare defines");
  for (const plan of plans) {
    if (plan.action !== "running") changes.push(`${SERVICE_VERB[plan.action]} ${plan.name}`);
  }
  const output =
    survey.database.kind === "unreachable"
      ? [`database through ${context.site.vip.address}: not reachable yet (${survey.database.error})`]
      : [];
  const taken = await portTaken(context);
  if (taken) return taken;
  if (changes.length > 0) {
    const outcome = wouldChange(
      `would ${changes.join(", ")} on ${context.node.name} (Harbor v${target.version})`,
    );
    return output.length > 0 ? { ...outcome, output } : outcome;
  }
  const reading = await readHarborHealth(target.baseUrl);
  const running = plans.map((plan) => plan.name).join(", ");
  if (reading.ok && reading.health.healthy) {
    return unchangedOutcome(
      `Harbor v${target.version} on ${context.node.name}: ${running} running, ${describeHarborHealth(reading.health)}`,
    );
  }
  const why = reading.ok ? describeHarborHealth(reading.health) : reading.error;
  return failedOutcome(
    `Harbor v${target.version} on ${context.node.name} is installed but ${why}`,
    "the failing component's error says what to fix; apply cannot fix it by reinstalling",
  );
}

async function apply(
  context: AgentContext,
  target: HarborTarget,
  survey: HarborSurvey,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const { node, site } = context;
  const { layout } = target;
  const done: string[] = [];
  const started = performance.now();

  // Preconditions first: a step that cannot finish changes nothing.
  const taken = await portTaken(context);
  if (taken) return taken;
  if (survey.database.kind === "unreachable") {
    return failedOutcome(
      `PostgreSQL is not reachable through the VIP ${site.vip.address}:${site.postgres.port}: ${survey.database.error}`,
      "Harbor uses its database through the VIP: deploy PostgreSQL and keepalived first, then re-run the deploy",
    );
  }

  if (survey.unpack) {
    try {
      await unpackBundle(target.bundle, layout, signal);
    } catch (error) {
      if (!(error instanceof BundleInvalid)) throw error;
      return failedOutcome(error.message, `replace ${target.bundle} with Harbor's offline installer`);
    }
    const from = survey.installed?.version;
    done.push(
      from && from !== target.version
        ? `replaced the v${from} installer with v${target.version}`
        : `unpacked ${basename(target.bundle)}`,
    );
  }
  if (await writeFileIfChanged(layout.harborYml, target.harborYml, 0o600)) done.push("wrote harbor.yml");
  let secrets = 0;
  for (const file of target.secretFiles ?? [])
    if (await writeFileIfChanged(file.path, file.content, 0o600)) secrets += 1;
  if (secrets > 0) done.push(`installed ${secrets} shared secret files`);

  if (survey.database.kind === "missing") {
    await createHarborDatabase(site, context.secrets.pgPassword);
    done.push("created database registry");
  }

  if (survey.prepare) {
    const prepared = await runPrepare(layout, node.dockerSocket, signal);
    if (prepared.code !== 0) {
      return failedOutcome(
        `prepare failed on ${node.name} (exit ${prepared.code})`,
        `read prepare's output; it ran in ${layout.installDir} against ${node.dockerSocket}`,
        prepared.output.slice(-2_000),
      );
    }
    await writeFileIfChanged(layout.preparedStamp, `${survey.inputsHash}\n`, 0o644);
    done.push("ran prepare");
  }

  let services: Awaited<ReturnType<typeof readServices>>;
  try {
    services = await readServices(layout.composeFile, layout.installDir, survey.inputsHash);
  } catch (error) {
    if (!(error instanceof ComposeError)) throw error;
    return failedOutcome(`cannot start Harbor's services on ${node.name}: ${error.message}`, COMPOSE_HINT);
  }
  if (!services) {
    return failedOutcome(
      `prepare wrote no ${layout.composeFile} on ${node.name}`,
      "the bundle's prepare is broken: rebuild the bundle",
    );
  }
  const containers = new Containers(context.docker);
  const names = services.map(({ spec }) => spec.name);
  for (const stale of await staleHarborContainers(context.docker, names)) {
    await containers.remove(stale);
    done.push(`removed ${stale}`);
  }
  for (const { spec } of services) {
    const action = await containers.ensureRunning(spec);
    if (action !== "running") done.push(`${action} ${spec.name}`);
  }

  const verified = await verifyHarbor(containers, names, target.baseUrl, target.version, signal);
  if (!verified.ok) return verificationFailure(context, containers, target, verified);
  await writeInstalled(layout, {
    version: target.version,
    bundleSha256: survey.bundleSha256,
    inputsHash: survey.inputsHash,
  });

  const health = describeHarborHealth(verified.health);
  if (done.length === 0) {
    return unchangedOutcome(
      `Harbor v${target.version} on ${node.name}: ${names.join(", ")} running, ${health}`,
    );
  }
  const previous = survey.installed?.version;
  const what =
    previous && previous !== target.version
      ? `upgraded Harbor on ${node.name} from v${previous} to v${target.version}`
      : `installed Harbor v${target.version} on ${node.name}`;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return changedOutcome(`${what}: ${health} (${seconds} s)`, [
    ...done,
    `health on ${target.baseUrl}: ${health}, ${verified.version}, after ${Math.round(verified.ms)} ms`,
  ]);
}

async function verificationFailure(
  context: AgentContext,
  containers: Containers,
  target: HarborTarget,
  failure: Exclude<Awaited<ReturnType<typeof verifyHarbor>>, { ok: true }>,
): Promise<StepOutcome> {
  const { node, site } = context;
  switch (failure.kind) {
    case "exited": {
      const tail = await containers.logsTail(failure.container, 30);
      if (/EADDRINUSE|address already in use/.test(tail)) {
        return failedOutcome(
          `${failure.container} on ${node.name} could not listen: a port it needs is already in use by another process`,
          `stop what listens there (ss -ltnp in ${node.name}'s namespace), then re-run the deploy`,
          tail,
        );
      }
      return failedOutcome(
        `${failure.container} on ${node.name} stopped (exit ${failure.exitCode}) before Harbor was healthy`,
        `read its log: docker logs ${failure.container} on ${node.name}`,
        tail,
      );
    }
    case "unhealthy":
      return failedOutcome(
        `Harbor on ${node.name} is not healthy on ${target.baseUrl}: ${failure.reason}`,
        `Harbor needs PostgreSQL through the VIP ${site.vip.address}:${site.postgres.port} and Redis at ${site.harborRedis.host}:${site.harborRedis.port}: fix the component named, then re-run the deploy`,
        await containers.logsTail("harbor-core", 20),
      );
    case "version":
      return failedOutcome(
        `Harbor on ${node.name} reports version ${failure.reported}, not v${target.version}`,
        `the bundle at ${target.bundle} is not version ${target.version}`,
      );
  }
}

export const harborInstall: DeployStepExecutor = async (context, request, signal) => {
  const target = await harborTarget(context, request);
  if (!isTarget(target)) return target;
  // A crashed unpack leaves its staging folder; it is rebuilt from scratch on the next apply.
  const survey = await surveyHarbor(context, target);
  if (request.mode === "check") return check(context, target, survey);
  try {
    return await apply(context, target, survey, signal);
  } finally {
    await rm(`${target.layout.dataDir}/.unpack`, { recursive: true, force: true });
  }
};
