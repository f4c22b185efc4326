import {
  allRedisCredentialReferences,
  type RedisRole,
  redisCredentialReference,
} from "./redis-credentials.ts";
import type { SiteConfig } from "./schema.ts";

/** One thing a host lacks to reach the control-plane Redis, worded for `config check`. */
export interface ControlPlaneGap {
  readonly path: string;
  readonly message: string;
}

/**
 * What this host lacks to log in to the control-plane Redis, without connecting: the passwords'
 * variables (the operations host holds the controller's and, for deploy to copy, every agent's;
 * a node only its own agent's) and the TLS files it cannot read. Pure: `readable` is the check.
 */
export function controlPlaneGaps(
  site: SiteConfig,
  env: Readonly<Record<string, string | undefined>>,
  readable: (file: string) => boolean,
  role?: RedisRole,
): ControlPlaneGap[] {
  const gaps: ControlPlaneGap[] = [];
  const refs =
    role === undefined
      ? allRedisCredentialReferences(site)
      : [redisCredentialReference(site, role) ?? []].flat();
  for (const ref of refs) {
    if (!env[ref.envName]) {
      gaps.push({
        path: ref.path,
        message: `${ref.envName} is not set in this environment (the Redis password of ${ref.user}, for the ${ref.role})`,
      });
    }
  }
  const tls = site.controlPlane.tls;
  const files: Array<[string, string | undefined]> = [
    ["caFile", tls?.caFile],
    ["certFile", tls?.certFile],
    ["keyFile", tls?.keyFile],
  ];
  for (const [field, file] of files) {
    if (file !== undefined && !readable(file)) {
      gaps.push({ path: `controlPlane.tls.${field}`, message: `${file} cannot be read here` });
    }
  }
  return gaps;
}
