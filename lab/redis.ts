import { join } from "node:path";
import { ensureDaemon } from "./daemons.ts";
import { ensureDirs, fingerprint, writeFileIfChanged } from "./files.ts";
import { type LabPaths, logFile } from "./paths.ts";
import { redisAnswers } from "./probes.ts";
import { REDIS_PROCESS_KEY, type StateStore } from "./state.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import { LAB_REDIS_PORT, LAB_REDIS_URL, type LabTopology } from "./topology.ts";

/**
 * The control plane's Redis on the operations host. It binds the bridge address only: a system
 * redis-server that a package install started on 127.0.0.1:6379 cannot clash with it, and
 * nothing outside the lab can reach it, which is why protected mode can be off.
 */
export function redisConfig(bindAddress: string, dataDir: string): string {
  return [
    "# Written by harbor-ha lab up; removed by lab down.",
    `bind ${bindAddress}`,
    `port ${LAB_REDIS_PORT}`,
    "protected-mode no",
    "daemonize no",
    'logfile ""',
    `dir ${dataDir}`,
    "appendonly yes",
    "appendfsync everysec",
    "save 60 1",
    "",
  ].join("\n");
}

export async function ensureRedis(
  store: StateStore,
  paths: LabPaths,
  topology: LabTopology,
  env: NodeJS.ProcessEnv,
): Promise<StepResult> {
  const dataDir = join(paths.redisDir, "data");
  await ensureDirs([paths.redisDir, dataDir], 0o750);
  const config = redisConfig(topology.hostAddress, dataDir);
  await writeFileIfChanged(paths.redisConfig, config, 0o640);
  const args = [paths.redisConfig];
  const outcome = await ensureDaemon(store, {
    key: REDIS_PROCESS_KEY,
    command: "redis-server",
    args,
    env,
    logFile: logFile(paths, "redis"),
    fingerprint: fingerprint(...args, config),
    ready: () => redisAnswers(topology.hostAddress, LAB_REDIS_PORT, 1_000),
    readyTimeoutMs: 15_000,
  });
  const detail = `${LAB_REDIS_URL} ${outcome} (appendonly, ${dataDir})`;
  return outcome === "running" ? unchanged(detail) : changed(detail);
}
