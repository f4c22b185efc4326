import type Docker from "dockerode";
import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { SiteKey } from "../../config/site-key.ts";
import type { Logger } from "../../support/logger.ts";
import type { UpstreamWatch } from "../upstream-watch.ts";

/** Reads the controller lease's stored value (controller-lease-key.ts); null when there is none. */
export interface ControllerLeaseReader {
  read(): Promise<string | null>;
}

/** Reads one record of the control-plane Redis (GET); null when there is none. */
export interface StoredRecordReader {
  read(): Promise<string | null>;
}

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
  /** The controller lease in the control-plane Redis, for remediation's fencing-token check. */
  readonly controllerLease: ControllerLeaseReader;
  /** When this node's standby last streamed from a primary (fed by the observation loop). */
  readonly upstream: UpstreamWatch;
  /** security.siteKeyFile's key (read again after a rotation): opens sealed records. */
  readonly siteKey: SiteKey;
  /** The sealed record of Harbor's shared secrets (harborSecretsKey), for harbor.install. */
  readonly harborSecrets: StoredRecordReader;
}
