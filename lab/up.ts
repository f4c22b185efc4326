import { HarborHaError } from "../support/errors.ts";
import type { Logger } from "../support/logger.ts";
import { ensureAgents } from "./agents.ts";
import { daemonEnv } from "./daemons.ts";
import { ensureDockerDaemons } from "./docker-daemons.ts";
import { ensureDirs } from "./files.ts";
import { ensureHarborBundle } from "./harbor-bundle.ts";
import { absentHostPaths } from "./host-paths.ts";
import { ensureImageTarball } from "./image.ts";
import { ensureImageImported } from "./image-import.ts";
import { readMountPoints } from "./mounts.ts";
import { ensureNetwork } from "./network.ts";
import { ensurePackages } from "./packages.ts";
import { type LabPaths, labPaths } from "./paths.ts";
import { ensureLabRedisCertificates, ensureRedis } from "./redis.ts";
import { ensureEnvFile, ensureLabSiteKey } from "./secrets.ts";
import { ensureSiteConfig, LAB_HARBOR_VERSION } from "./site-config.ts";
import { ensureSshKeys } from "./ssh-keys.ts";
import { ensurePrivsepDir, ensureSshDaemons } from "./sshd.ts";
import { type LabState, readState, StateStore } from "./state.ts";
import { changed, type StepEvent, type StepResult, StepRunner, unchanged } from "./steps.ts";
import {
  DEFAULT_NODES,
  isValidNodeCount,
  LAB_REDIS_URL,
  type LabTopology,
  labTopology,
  MAX_NODES,
  MIN_NODES,
} from "./topology.ts";

export interface LabUpOptions {
  /** 2..9; defaults to the running lab's count, or 2 for a new lab. */
  nodes?: number;
  logger: Logger;
  onStep?: (event: StepEvent) => void;
  /** Start `harbor-ha agent` on every node (default true). */
  agents?: boolean;
  /** The environment the lab's processes start from (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface LabNodeSummary {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly dockerSocket: string;
  readonly dataRoot: string;
}

export interface LabSummary {
  readonly config: string;
  readonly env: string;
  readonly vip: string;
  readonly redisUrl: string;
  readonly sshKey: string;
  readonly knownHosts: string;
  readonly sharedDir: string;
  readonly nodes: readonly LabNodeSummary[];
  readonly steps: readonly StepEvent[];
  /** False when every step reported "unchanged". */
  readonly changed: boolean;
  readonly durationMs: number;
}

/** The node count to build: the one asked for, else the running lab's, else the default. */
export function chooseNodeCount(requested: number | undefined, running: LabState | undefined): number {
  const count = requested ?? running?.nodeCount ?? DEFAULT_NODES;
  if (!isValidNodeCount(count)) {
    throw new HarborHaError("LAB_CONFLICT", `--nodes must be ${MIN_NODES}..${MAX_NODES}, got ${count}`, {
      action: "lab up",
      hint: `choose a node count from ${MIN_NODES} to ${MAX_NODES}`,
    });
  }
  if (running && running.nodeCount !== count) {
    throw new HarborHaError("LAB_CONFLICT", `the lab is up with ${running.nodeCount} nodes, not ${count}`, {
      action: "lab up",
      hint: "run `harbor-ha lab down` first to change the node count",
      context: { running: running.nodeCount, requested: count },
    });
  }
  return count;
}

function labFolders(paths: LabPaths, topology: LabTopology): string[] {
  return [
    paths.root,
    paths.logDir,
    paths.sharedDir,
    paths.runRoot,
    ...topology.nodes.flatMap((n) => [paths.node(n.name).disk, paths.node(n.name).runDir]),
  ];
}

async function startState(
  paths: LabPaths,
  nodeCount: number,
  running: LabState | undefined,
): Promise<StateStore> {
  if (running) return new StateStore(paths.stateFile, running);
  const netnsMounted = (await readMountPoints()).includes("/run/netns");
  const store = new StateStore(paths.stateFile, {
    version: 1,
    nodeCount,
    createdAt: new Date().toISOString(),
    createdHostPaths: await absentHostPaths(),
    createdNetnsMount: !netnsMounted,
    processes: {},
  });
  await store.save();
  return store;
}

/**
 * Brings the lab up, or checks that it is up: every step compares what exists with what should and
 * changes only the difference, so a second run on a running lab reports every step unchanged.
 */
export async function labUp(options: LabUpOptions): Promise<LabSummary> {
  const started = performance.now();
  const logger = options.logger.child({ component: "lab" });
  if (process.getuid?.() !== 0) {
    throw new HarborHaError("NOT_ROOT", "the lab needs root (namespaces, bridges, daemons)", {
      action: "lab up",
      hint: "run it as root (sudo harbor-ha lab up)",
    });
  }
  const paths = labPaths();
  const running = await readState(paths.stateFile);
  const topology = labTopology(chooseNodeCount(options.nodes, running));
  const baseEnv = options.env ?? process.env;
  const env = daemonEnv(baseEnv);
  const steps = new StepRunner(logger, options.onStep);

  await steps.run("packages", () => ensurePackages());
  const store = await startState(paths, topology.nodes.length, running);
  await steps.run("folders", async (): Promise<StepResult> => {
    const created = await ensureDirs(labFolders(paths, topology), 0o755);
    const privsep = await ensurePrivsepDir();
    const what = `${paths.root}, ${topology.nodes.length} node disks, shared ${paths.sharedDir}`;
    return created.length > 0 || privsep ? changed(what) : unchanged(what);
  });
  await steps.run("network", () => ensureNetwork(topology));
  await steps.run("image", () => ensureImageTarball(paths.imageCacheDir));
  await steps.run("ssh-keys", () => ensureSshKeys(paths, topology));
  await steps.run("secrets", () =>
    ensureEnvFile(
      paths.env,
      topology.nodes.map((node) => node.name),
    ),
  );
  await steps.run("site-key", () => ensureLabSiteKey(paths.siteKey));
  await steps.run("site-config", () => ensureSiteConfig(topology, paths));
  // The stand-in for Harbor's offline installer (DESIGN §6), where the site config names it.
  await steps.run("harbor-bundle", () => ensureHarborBundle(paths, LAB_HARBOR_VERSION));
  await steps.run("docker", () => ensureDockerDaemons(store, paths, topology, env));
  // Only a lab that comes up anew starts from bare stores: a `lab up` on a running lab repairs it
  // (an agent or Redis started again) and must leave its containers alone.
  await steps.run("image-import", () => ensureImageImported(paths, topology, { purge: !running }));
  await steps.run("sshd", () => ensureSshDaemons(store, paths, topology, env));
  await steps.run("redis-tls", () => ensureLabRedisCertificates(paths, topology));
  await steps.run("redis", () => ensureRedis(store, paths, topology, env));
  if (options.agents ?? true) {
    await steps.run("agents", () => ensureAgents(store, paths, topology, baseEnv, process.execPath));
  }

  return {
    config: paths.config,
    env: paths.env,
    vip: topology.vip,
    redisUrl: LAB_REDIS_URL,
    sshKey: paths.sshKey,
    knownHosts: paths.knownHosts,
    sharedDir: paths.sharedDir,
    nodes: topology.nodes.map((node) => ({
      name: node.name,
      address: node.address,
      netns: node.netns,
      dockerSocket: paths.node(node.name).dockerSocket,
      dataRoot: paths.node(node.name).disk,
    })),
    steps: steps.events,
    changed: steps.events.some((event) => event.status !== "unchanged"),
    durationMs: performance.now() - started,
  };
}
