import { join } from "node:path";
import { stringify } from "yaml";
import { CLI_ENTRY } from "./agents.ts";
import { writeFileIfChanged } from "./files.ts";
import { NODE_IMAGE_RECIPE } from "./image.ts";
import type { LabPaths } from "./paths.ts";
import { labRedisTlsDir, redisCertificateFiles } from "./redis-tls.ts";
import { LAB_AGENT_PASSWORD_PREFIX, LAB_REDIS_PASSWORD_KEY } from "./secrets.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import { LAB_REDIS_URL, LAB_SSH_PORT, type LabTopology } from "./topology.ts";

export const LAB_SITE = "lab";
export const LAB_VIRTUAL_ROUTER_ID = 77;
export const LAB_HARBOR_VERSION = "2.2.2";

/**
 * The lab's site config, in the shape of config/site.example.yaml. The nodes share one
 * filesystem (LAB.md pitfall 13): postgres.dataDir and harbor.dataDir are relative, so each
 * node's land on its own disk (its dataRoot).
 */
export function labSiteConfig(topology: LabTopology, paths: LabPaths): Record<string, unknown> {
  const labRedisTls = redisCertificateFiles(labRedisTlsDir(paths));
  return {
    site: LAB_SITE,
    vip: { address: topology.vip, prefix: topology.prefix, interface: "eth0" },
    nodes: topology.nodes.map((node) => ({
      name: node.name,
      address: node.address,
      // ensureSshKeys writes every node's host key there: the lab pins them like a real site.
      ssh: { user: "root", port: LAB_SSH_PORT, keyFile: paths.sshKey, knownHostsFile: paths.knownHosts },
      dataRoot: paths.node(node.name).disk,
      dockerSocket: paths.node(node.name).dockerSocket,
      dockerConfigFile: paths.node(node.name).dockerConfig,
      // What `systemctl restart docker` is on a real host: the lab restarts its own dockerd.
      dockerRestartCommand: `${process.execPath} ${CLI_ENTRY} lab restart-docker ${node.name}`,
    })),
    postgres: {
      image: NODE_IMAGE_RECIPE.tag,
      port: 5432,
      dataDir: "postgres",
      superuser: { passwordEnv: "HARBOR_HA_PG_PASSWORD" },
      replication: { user: "replicator", passwordEnv: "HARBOR_HA_REPLICATION_PASSWORD" },
      // The product's default: no acknowledged commit lost in a failover.
      durability: "synchronous",
    },
    keepalived: { image: NODE_IMAGE_RECIPE.tag, virtualRouterId: LAB_VIRTUAL_ROUTER_ID, advertInt: 1 },
    harbor: {
      version: LAB_HARBOR_VERSION,
      installerBundle: join(paths.root, "harbor", `harbor-offline-installer-v${LAB_HARBOR_VERSION}.tgz`),
      httpPort: 5000,
      adminPasswordEnv: "HARBOR_HA_HARBOR_ADMIN_PASSWORD",
      dataDir: "harbor",
      storage: { kind: "filesystem", path: paths.sharedDir },
    },
    harborRedis: { host: topology.nodes[0]?.address, port: 6379 },
    controlPlane: {
      redisUrl: LAB_REDIS_URL,
      tls: {
        caFile: labRedisTls.caFile,
        certFile: labRedisTls.clientCertFile,
        keyFile: labRedisTls.clientKeyFile,
      },
      auth: {
        controller: { user: "harbor-ha-controller", passwordEnv: LAB_REDIS_PASSWORD_KEY },
        agents: { userPrefix: "harbor-ha-agent-", passwordEnvPrefix: LAB_AGENT_PASSWORD_PREFIX },
      },
    },
    security: { siteKeyFile: paths.siteKey },
    slack: {
      alertChannel: "C0LABALERTS",
      viewers: "everyone",
      operators: ["U0LABOPER"],
      // Three, so that two of them can approve a request made by the third.
      approvers: ["U0LABOPS1", "U0LABOPS2", "U0LABOPS3"],
      changeChannels: ["C0LABALERTS"],
      twoPersonRule: true,
      approval: { switchover: true },
    },
    policy: {
      automation: true,
      probeIntervalMs: 500,
      confirmations: 2,
      maxLagBytes: 16_777_216,
      flapDamping: { windowMinutes: 30, maxAutoFailovers: 2 },
      approvalExpiryMinutes: 15,
    },
  };
}

export function renderSiteConfig(config: Record<string, unknown>, envFile: string): string {
  const header = [
    "# The local lab's site, written by `harbor-ha lab up` (rewritten on every up; edits are lost).",
    `# Secrets are in ${envFile}; load them with: set -a; . ${envFile}; set +a`,
    "",
  ].join("\n");
  return `${header}${stringify(config, { lineWidth: 0 })}`;
}

export async function ensureSiteConfig(topology: LabTopology, paths: LabPaths): Promise<StepResult> {
  const text = renderSiteConfig(labSiteConfig(topology, paths), paths.env);
  const wrote = await writeFileIfChanged(paths.config, text, 0o644);
  return wrote ? changed(`wrote ${paths.config}`) : unchanged(paths.config);
}
