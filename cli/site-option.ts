import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type LoadedSite, loadSiteConfig } from "../config/load.ts";
import {
  allRedisCredentialReferences,
  type RedisCredentials,
  resolveRedisCredentials,
} from "../config/redis-credentials.ts";
import { missingSecrets, resolveSecrets, type SiteSecrets, shippedSecretNames } from "../config/secrets.ts";
import { readSiteKey, type SiteKey } from "../config/site-key.ts";
import { labPaths, readEnvFile } from "../lab/index.ts";

/**
 * Which site file a command uses: --config, else HARBOR_HA_CONFIG, else the local lab's config
 * when a lab is up. The environment is read here, at the entry point, and nowhere below.
 */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit) return explicit;
  if (env.HARBOR_HA_CONFIG) return env.HARBOR_HA_CONFIG;
  const lab = labPaths().config;
  return existsSync(lab) ? lab : undefined;
}

export class MissingConfigError extends Error {}

export async function loadSiteFromOptions(explicit: string | undefined): Promise<LoadedSite> {
  const file = resolveConfigPath(explicit, process.env);
  if (!file) {
    throw new MissingConfigError(
      "no site config: pass --config FILE or set HARBOR_HA_CONFIG (or run `harbor-ha lab up`, which writes one)",
    );
  }
  return loadSiteConfig(file);
}

/**
 * The environment a command reads its secrets from: the process's own, and for the lab's site
 * (only) the lab's secrets file beneath it, so that `harbor-ha status` works in a lab shell
 * without sourcing anything. A variable set in the environment always wins.
 */
export async function secretsEnvironment(configFile: string): Promise<Record<string, string | undefined>> {
  const paths = labPaths();
  if (resolve(configFile) !== resolve(paths.config)) return process.env;
  return { ...(await readEnvFile(paths.env)), ...process.env };
}

/**
 * The controller's login to the control-plane Redis (the CLI acts as the controller's role), from
 * the environment and, for the lab's site, the lab's env file.
 */
export async function controllerRedisCredentials(loaded: LoadedSite): Promise<RedisCredentials> {
  return resolveRedisCredentials(loaded.site, "controller", await secretsEnvironment(loaded.file));
}

/**
 * The secrets as the variables the site file names, for agents a deploy installs: the site's,
 * and every agent's Redis password (deploy copies each node only its own).
 */
export function secretsEnvOf(
  site: LoadedSite["site"],
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const names = [
    ...shippedSecretNames(site),
    ...allRedisCredentialReferences(site).map((ref) => ref.envName),
  ];
  return Object.fromEntries(names.map((name) => [name, env[name] ?? ""]));
}

/** What a long-running control-plane process (the bot) takes from its site file and environment. */
export interface SiteInputs {
  /** The bot's (controller role's) login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  readonly pgPassword: string | undefined;
  /** Undefined when a secret is missing: such a bot observes and answers, but cannot deploy. */
  readonly secrets: SiteSecrets | undefined;
  readonly configText: string;
  readonly secretsEnv: Readonly<Record<string, string>>;
  /** Signs every job the process queues and verifies every job it runs; required. */
  readonly siteKey: SiteKey;
}

export async function siteInputs(
  loaded: LoadedSite,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SiteInputs> {
  const { site } = loaded;
  return {
    redis: resolveRedisCredentials(site, "controller", env),
    pgPassword: env[site.postgres.superuser.passwordEnv],
    secrets: missingSecrets(site, env).length === 0 ? resolveSecrets(site, env) : undefined,
    configText: await readFile(loaded.file, "utf8"),
    secretsEnv: secretsEnvOf(site, env),
    siteKey: await readSiteKey(site.security.siteKeyFile),
  };
}
