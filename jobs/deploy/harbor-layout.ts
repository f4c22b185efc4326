import { basename, dirname, join } from "node:path";
import { nodeDataPath } from "../../config/node-paths.ts";
import { harborVersion, type NodeConfig, type SiteConfig } from "../../config/schema.ts";
import { assertInside, assertPlainName, PayloadPathError } from "../../support/contained-path.ts";

/**
 * Where Harbor's pieces live on a node, all under the node's harbor dataDir:
 *   harbor/        the unpacked offline installer (install.sh, prepare, harbor.yml, docker-compose.yml)
 *   data/          Harbor's data_volume (the shared secrets under data/secret/)
 *   redis/         Harbor's Redis data, on the node that runs it
 *   harbor-ha.json what harbor-ha installed here last (version, bundle digest, inputs)
 * Image blobs are not here: they are on the shared storage (harbor.storage).
 */
export interface HarborNodeLayout {
  readonly dataDir: string;
  readonly installDir: string;
  readonly dataVolume: string;
  readonly redisDir: string;
  readonly stateFile: string;
  readonly harborYml: string;
  readonly composeFile: string;
  /** Holds the inputs hash prepare last ran with: the same inputs need no second prepare. */
  readonly preparedStamp: string;
}

export function harborNodeLayout(site: SiteConfig, node: Pick<NodeConfig, "dataRoot">): HarborNodeLayout {
  const dataDir = nodeDataPath(node, site.harbor.dataDir);
  const installDir = join(dataDir, "harbor");
  return {
    dataDir,
    installDir,
    dataVolume: join(dataDir, "data"),
    redisDir: join(dataDir, "redis"),
    stateFile: join(dataDir, "harbor-ha.json"),
    harborYml: join(installDir, "harbor.yml"),
    composeFile: join(installDir, "docker-compose.yml"),
    preparedStamp: join(installDir, ".harbor-ha-prepared"),
  };
}

/** "2.2.2" -> "v2.2.2", the form Harbor's file names and its systeminfo use. */
export function harborVersionTag(version: string): string {
  return version.startsWith("v") ? version : `v${version}`;
}

/**
 * The installer bundle for a version. The config names the site version's bundle; another
 * version's (an upgrade) is expected beside it under Harbor's own file name pattern, and nowhere
 * else: the version comes from a job's payload, and the agent untars the bundle and runs its
 * `prepare` as root, so a version that is not digits and dots, or a name that would leave the
 * bundle's folder, is refused (PayloadPathError).
 */
export function harborBundlePath(site: SiteConfig, version: string): string {
  if (!harborVersion.safeParse(version).success) {
    throw new PayloadPathError("the Harbor version", version, "not a version such as 2.2.2");
  }
  const configured = site.harbor.installerBundle;
  if (version === site.harbor.version) return configured;
  const name = basename(configured);
  const siteTag = harborVersionTag(site.harbor.version);
  const renamed = name.includes(siteTag)
    ? name.replace(siteTag, harborVersionTag(version))
    : `harbor-offline-installer-${harborVersionTag(version)}.tgz`;
  const folder = dirname(configured);
  return assertInside(
    "the installer bundle",
    folder,
    join(folder, assertPlainName("the installer bundle", renamed)),
  );
}
