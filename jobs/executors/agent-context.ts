import type Docker from "dockerode";
import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { Logger } from "../../support/logger.ts";

/** What an executor may use: the node it acts on and that node's adapters, passed in. */
export interface AgentContext {
  readonly site: SiteConfig;
  readonly node: NodeConfig;
  readonly docker: Docker;
  /** Read from the environment once, at the agent's start; absent ones are empty strings. */
  readonly secrets: SiteSecrets;
  readonly logger: Logger;
  /** When this agent started (ms since the epoch). */
  readonly startedAt: number;
}
