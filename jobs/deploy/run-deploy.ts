import {
  agentRedisEnv,
  allRedisCredentialReferences,
  type RedisCredentials,
} from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { SiteKey } from "../../config/site-key.ts";
import type { Logger } from "../../support/logger.ts";
import type { DeployResult } from "./deploy-site.ts";
import type { AgentInstall } from "./host-agent.ts";
import type { DeployEvent } from "./run-plan.ts";

export interface RunDeployOptions {
  readonly site: SiteConfig;
  readonly secrets: SiteSecrets;
  /** The site file's text and the secrets' variables, for agents installed over SSH. */
  readonly configText: string;
  readonly secretsEnv: Readonly<Record<string, string>>;
  /** Signs the jobs; installed on each node by host.agent, at the same path. */
  readonly siteKey: SiteKey;
  /** The controller's login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  readonly dryRun: boolean;
  readonly harborVersion?: string;
  readonly logger: Logger;
  readonly onEvent?: (event: DeployEvent) => void;
}

/**
 * What agents are installed with: the site's secrets for every node, and each node's own Redis
 * password for that node only, so one node's secrets file cannot open another node's queue.
 */
export function agentInstallFor(
  site: SiteConfig,
  configText: string,
  secretsEnv: Readonly<Record<string, string>>,
  siteKey: SiteKey,
): AgentInstall {
  const agentVariables = new Set(allRedisCredentialReferences(site).map((ref) => ref.envName));
  const shared = Object.fromEntries(Object.entries(secretsEnv).filter(([key]) => !agentVariables.has(key)));
  const nodeEnv = Object.fromEntries(
    site.nodes.map((node) => [node.name, agentRedisEnv(site, node.name, secretsEnv)]),
  );
  return { configText, env: shared, nodeEnv, siteKey: { file: site.security.siteKeyFile, key: siteKey } };
}

/**
 * A deploy as both entry points run it (`harbor-ha deploy` and `/harbor deploy`): the same plan,
 * the same steps. Its heavy modules load on the first deploy, not when a process starts.
 */
export async function runDeploy(options: RunDeployOptions): Promise<DeployResult> {
  const [{ deploySite }, { checkHarborAsClient }, { generateHarborSecrets }] = await Promise.all([
    import("./deploy-site.ts"),
    import("./harbor-client.ts"),
    import("./harbor-secrets.ts"),
  ]);
  return deploySite({
    site: options.site,
    secrets: options.secrets,
    siteKey: options.siteKey,
    redis: options.redis,
    agentInstall: agentInstallFor(options.site, options.configText, options.secretsEnv, options.siteKey),
    dryRun: options.dryRun,
    ...(options.harborVersion ? { harborVersion: options.harborVersion } : {}),
    logger: options.logger,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    generateHarborSecrets: () => generateHarborSecrets(),
    checkAsClient: checkHarborAsClient,
  });
}
