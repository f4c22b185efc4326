import { Document } from "yaml";
import type { SiteConfig } from "../../config/schema.ts";
import { harborVersionTag } from "./harbor-layout.ts";

/**
 * harbor.yml, the one file Harbor's prepare reads, rendered from the site config in the shape of
 * Harbor 2.2's harbor.yml.tmpl: every instance names the VIP as its hostname and uses the same
 * external database (through the VIP), the same Redis and the same shared storage.
 */

/** Harbor's database on the site's PostgreSQL: created by harbor.install when missing. */
export const HARBOR_DATABASE = "registry";
export const HARBOR_DATABASE_USER = "postgres";

export interface HarborYmlInput {
  readonly site: SiteConfig;
  readonly version: string;
  readonly adminPassword: string;
  readonly databasePassword: string;
  /** The node's data_volume (harbor-layout.ts). */
  readonly dataVolume: string;
  /** The node's log folder. */
  readonly logDir: string;
}

export class HarborYmlError extends Error {
  override readonly name = "HarborYmlError";
}

function storageService(site: SiteConfig): Record<string, unknown> {
  const storage = site.harbor.storage;
  switch (storage.kind) {
    case "filesystem":
      return { filesystem: { rootdirectory: storage.path } };
    case "s3":
      // The agents hold only the three site secrets (config/secrets.ts), not the S3 keys.
      throw new HarborYmlError(
        `harbor.storage.kind s3 is not supported by harbor.install yet: the agents do not receive ${storage.accessKeyEnv} and ${storage.secretKeyEnv}`,
      );
  }
}

export function harborYmlDocument(input: HarborYmlInput): Record<string, unknown> {
  const { site } = input;
  return {
    hostname: site.vip.address,
    http: { port: site.harbor.httpPort },
    harbor_admin_password: input.adminPassword,
    data_volume: input.dataVolume,
    storage_service: storageService(site),
    jobservice: { max_job_workers: 10 },
    notification: { webhook_job_max_retry: 10 },
    chart: { absolute_url: "disabled" },
    log: { level: "info", local: { rotate_count: 50, rotate_size: "200M", location: input.logDir } },
    _version: harborVersionTag(input.version).slice(1),
    external_database: {
      harbor: {
        host: site.vip.address,
        port: site.postgres.port,
        db_name: HARBOR_DATABASE,
        username: HARBOR_DATABASE_USER,
        password: input.databasePassword,
        ssl_mode: "disable",
        max_idle_conns: 2,
        max_open_conns: 0,
      },
    },
    // Harbor 2.x names the external Redis as host:port; index 0 is core's and cannot be changed.
    external_redis: {
      host: `${site.harborRedis.host}:${site.harborRedis.port}`,
      password: "",
      registry_db_index: 1,
      jobservice_db_index: 2,
      chartmuseum_db_index: 3,
      trivy_db_index: 5,
      idle_timeout_seconds: 30,
    },
  };
}

/** The text written to harbor.yml: the same input gives the same bytes (no change, no prepare). */
export function renderHarborYml(input: HarborYmlInput): string {
  const document = new Document(harborYmlDocument(input));
  document.commentBefore =
    " Written by harbor-ha from the site config (harbor.install); edits are overwritten on the next deploy.";
  return document.toString({ lineWidth: 0 });
}
