import { stringify } from "yaml";
import type { CoreConfig } from "../core/config.ts";
import type { HarborYml } from "./harbor-yml.ts";

/**
 * What prepare generates from harbor.yml, as text: the registry's config.yml, the core's
 * config.json and docker-compose.yml. Pure, so the same inputs always give the same files.
 */

/** The registry listens on loopback only: clients reach it through the core's auth. */
export const REGISTRY_LISTEN = "127.0.0.1:5001";
export const COMPONENT_LABEL = "io.harbor-ha.component";

export interface PrepareSecrets {
  readonly registryHttpSecret: string;
}

export interface PrepareInput {
  readonly harbor: HarborYml;
  readonly secrets: PrepareSecrets;
  /** The image the services run from (the bundle's standin/image). */
  readonly image: string;
  /** The bundle's version tag, e.g. "v2.2.2". */
  readonly versionTag: string;
}

export function registryConfig(input: PrepareInput): string {
  return stringify({
    version: 0.1,
    log: { level: "info", fields: { service: "registry" } },
    storage: {
      filesystem: { rootdirectory: "/storage" },
      delete: { enabled: true },
      // Every node's registry starts on the same shared folder: none walks it to purge uploads,
      // which could race an upload another node is taking.
      maintenance: { uploadpurging: { enabled: false } },
      // No `cache:` section on purpose: an in-memory blob descriptor cache on one node does not
      // see a blob deleted or written through the other (LAB.md pitfall 15).
    },
    http: {
      addr: REGISTRY_LISTEN,
      // The same on every node, or an upload begun on one cannot finish on the other.
      secret: input.secrets.registryHttpSecret,
      relativeurls: true,
      headers: { "X-Content-Type-Options": ["nosniff"] },
    },
  });
}

export function coreConfig(input: PrepareInput): CoreConfig {
  const { harbor } = input;
  return {
    // All addresses of the node: its own and the VIP whenever this node holds it.
    listen: { host: "0.0.0.0", port: harbor.httpPort },
    registryUrl: `http://${REGISTRY_LISTEN}`,
    admin: { username: "admin", password: harbor.adminPassword },
    database: harbor.database,
    redis: harbor.redis,
    harborVersion: `${input.versionTag}-standin`,
    hostname: harbor.hostname,
  };
}

export function composeFile(input: PrepareInput): string {
  const labels = () => ({ [COMPONENT_LABEL]: "harbor" });
  // YAML 1.1 as docker-compose (PyYAML) reads it: `restart: "no"` stays a string, not false.
  return stringify(
    {
      version: "2.3",
      services: {
        registry: {
          image: input.image,
          container_name: "harbor-registry",
          network_mode: "host",
          restart: "no",
          command: ["docker-registry", "serve", "/etc/registry/config.yml"],
          volumes: ["./common/config/registry/:/etc/registry/:ro", `${input.harbor.storageRoot}:/storage`],
          labels: labels(),
        },
        core: {
          image: input.image,
          container_name: "harbor-core",
          network_mode: "host",
          restart: "no",
          command: ["node", "/harbor/standin/harbor-core.cjs", "/etc/core/config.json"],
          volumes: ["./common/config/core/:/etc/core/:ro", "./standin/:/harbor/standin/:ro"],
          depends_on: ["registry"],
          labels: labels(),
        },
      },
    },
    { version: "1.1" },
  );
}
