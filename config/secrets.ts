import { HarborHaError } from "../support/errors.ts";
import type { SiteConfig } from "./schema.ts";

/** Where each secret is named in the site file, and the variable that holds it. */
export interface SecretReference {
  readonly key: "pgPassword" | "replicationPassword" | "harborAdminPassword";
  readonly path: string;
  readonly envName: string;
}

export type SiteSecrets = Readonly<Record<SecretReference["key"], string>>;

export function secretReferences(site: SiteConfig): SecretReference[] {
  return [
    {
      key: "pgPassword",
      path: "postgres.superuser.passwordEnv",
      envName: site.postgres.superuser.passwordEnv,
    },
    {
      key: "replicationPassword",
      path: "postgres.replication.passwordEnv",
      envName: site.postgres.replication.passwordEnv,
    },
    { key: "harborAdminPassword", path: "harbor.adminPasswordEnv", envName: site.harbor.adminPasswordEnv },
  ];
}

/** The references whose variable is unset or empty in this environment. */
export function missingSecrets(
  site: SiteConfig,
  env: Readonly<Record<string, string | undefined>>,
): SecretReference[] {
  return secretReferences(site).filter((ref) => !env[ref.envName]);
}

/**
 * Reads the site's secrets from the environment, once, at a process's entry point. Every
 * missing variable is named at once, with the config field that names it.
 */
export function resolveSecrets(
  site: SiteConfig,
  env: Readonly<Record<string, string | undefined>>,
): SiteSecrets {
  const missing = missingSecrets(site, env);
  if (missing.length > 0) {
    throw new HarborHaError(
      "CONFIG_INVALID",
      `missing secrets: ${missing.map((ref) => `${ref.envName} (named by ${ref.path})`).join(", ")}`,
      {
        action: "read the site's secrets from the environment",
        hint: "export each variable before starting (the lab writes them to the env file `harbor-ha lab status` shows)",
        context: { missing: missing.map((ref) => ref.envName) },
      },
    );
  }
  const secrets: Record<string, string> = {};
  for (const ref of secretReferences(site)) secrets[ref.key] = env[ref.envName] ?? "";
  return secrets as SiteSecrets;
}

/** The variables deploy copies to each agent: the site's secrets and, when named, the metrics token. */
export function shippedSecretNames(site: SiteConfig): string[] {
  const names = secretReferences(site).map((ref) => ref.envName);
  return site.metrics.bearerTokenEnv ? [...names, site.metrics.bearerTokenEnv] : names;
}

/**
 * The token scrapers must send, read at an entry point. `missing`: the site names a variable that
 * is unset, and the caller serves no metrics at all rather than open ones.
 */
export function metricsBearerToken(
  site: SiteConfig,
  env: Readonly<Record<string, string | undefined>>,
): { readonly token?: string; readonly missing?: string } {
  const name = site.metrics.bearerTokenEnv;
  if (name === undefined) return {};
  const token = env[name];
  return token ? { token } : { missing: name };
}
