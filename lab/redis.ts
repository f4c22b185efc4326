import { join } from "node:path";
import { loadSiteConfig } from "../config/load.ts";
import { passwordHashesFrom, renderAclFile } from "../jobs/redis-acl.ts";
import { ensureDaemon } from "./daemons.ts";
import { ensureDirs, fingerprint, writeFileIfChanged } from "./files.ts";
import { type LabPaths, logFile } from "./paths.ts";
import { redisAnswers } from "./probes.ts";
import {
  ensureRedisCertificates,
  labRedisTlsDir,
  type RedisCertificateFiles,
  redisCertificateFiles,
} from "./redis-tls.ts";
import { LAB_REDIS_PASSWORD_KEY, readEnvFile } from "./secrets.ts";
import { REDIS_PROCESS_KEY, type StateStore } from "./state.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import { LAB_REDIS_PORT, LAB_REDIS_URL, type LabTopology } from "./topology.ts";

/**
 * The control plane's Redis on the operations host, the way issue 14 wants a production one:
 * TLS only (no plain-text port) with the lab's own CA and mutual TLS, the ACL users of
 * jobs/redis-acl.ts with the default user off, protected mode on, bound to the bridge address
 * only (a system redis-server on 127.0.0.1:6379 cannot clash with it, and nothing outside the lab
 * can reach it).
 */
export function redisConfig(
  bindAddress: string,
  dataDir: string,
  tls: RedisCertificateFiles,
  aclFile: string,
): string {
  return [
    "# Written by harbor-ha lab up; removed by lab down.",
    `bind ${bindAddress}`,
    "port 0",
    `tls-port ${LAB_REDIS_PORT}`,
    `tls-cert-file ${tls.serverCertFile}`,
    `tls-key-file ${tls.serverKeyFile}`,
    `tls-ca-cert-file ${tls.caFile}`,
    "tls-auth-clients yes",
    'tls-protocols "TLSv1.2 TLSv1.3"',
    `aclfile ${aclFile}`,
    "protected-mode yes",
    "daemonize no",
    'logfile ""',
    `dir ${dataDir}`,
    "appendonly yes",
    "appendfsync everysec",
    "save 60 1",
    "",
  ].join("\n");
}

export async function ensureLabRedisCertificates(
  paths: LabPaths,
  topology: LabTopology,
): Promise<StepResult> {
  const dir = labRedisTlsDir(paths);
  await ensureDirs([paths.redisDir], 0o750);
  await ensureDirs([dir], 0o700);
  const made = await ensureRedisCertificates(dir, [topology.hostAddress]);
  const detail = `lab CA and Redis certificates for ${topology.hostAddress} in ${dir}`;
  return made ? changed(detail) : unchanged(detail);
}

export async function ensureRedis(
  store: StateStore,
  paths: LabPaths,
  topology: LabTopology,
  env: NodeJS.ProcessEnv,
): Promise<StepResult> {
  const dataDir = join(paths.redisDir, "data");
  await ensureDirs([paths.redisDir, dataDir], 0o750);
  const tls = redisCertificateFiles(labRedisTlsDir(paths));
  const aclFile = join(paths.redisDir, "users.acl");
  const { site } = await loadSiteConfig(paths.config);
  const secrets = await readEnvFile(paths.env);
  const acl = renderAclFile(site, passwordHashesFrom(site, secrets));
  await writeFileIfChanged(aclFile, acl, 0o600);
  const config = redisConfig(topology.hostAddress, dataDir, tls, aclFile);
  await writeFileIfChanged(paths.redisConfig, config, 0o640);
  const args = [paths.redisConfig];
  const login = {
    tls,
    user: site.controlPlane.auth?.controller.user ?? "",
    password: secrets[LAB_REDIS_PASSWORD_KEY] ?? "",
  };
  const outcome = await ensureDaemon(store, {
    key: REDIS_PROCESS_KEY,
    command: "redis-server",
    args,
    env,
    logFile: logFile(paths, "redis"),
    // A new ACL (a node added, a password changed) restarts Redis, which reads the file at start.
    fingerprint: fingerprint(...args, config, acl),
    ready: () => redisAnswers(topology.hostAddress, LAB_REDIS_PORT, login, 1_000),
    readyTimeoutMs: 15_000,
  });
  const detail = `${LAB_REDIS_URL} ${outcome} (TLS only, ACL users, appendonly, ${dataDir})`;
  return outcome === "running" ? unchanged(detail) : changed(detail);
}
