import type { SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { SiteKey } from "../../config/site-key.ts";
import type { Logger } from "../../support/logger.ts";
import type { DeployResult } from "./deploy-site.ts";
import type { DeployEvent } from "./run-plan.ts";

export interface RunDeployOptions {
  readonly site: SiteConfig;
  readonly secrets: SiteSecrets;
  /** The site file's text and the secrets' variables, for agents installed over SSH. */
  readonly configText: string;
  readonly secretsEnv: Readonly<Record<string, string>>;
  /** Signs the jobs; installed on each node by host.agent, at the same path. */
  readonly siteKey: SiteKey;
  readonly dryRun: boolean;
  readonly harborVersion?: string;
  readonly logger: Logger;
  readonly onEvent?: (event: DeployEvent) => void;
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
    agentInstall: {
      configText: options.configText,
      env: { ...options.secretsEnv },
      siteKey: { file: options.site.security.siteKeyFile, key: options.siteKey },
    },
    dryRun: options.dryRun,
    ...(options.harborVersion ? { harborVersion: options.harborVersion } : {}),
    logger: options.logger,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    generateHarborSecrets: () => generateHarborSecrets(),
    checkAsClient: checkHarborAsClient,
  });
}
