import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./redis-server.ts";
import { loopbackSiteYaml, writeTestSiteKey } from "./site-fixtures.ts";

type Change = [path: Array<string | number>, value: unknown];

export interface LoopbackSite {
  /** The site's YAML text. */
  readonly yaml: string;
  readonly pgPort: number;
  readonly harborPort: number;
  /** The shared storage folder (in `dir`). */
  readonly storageDir: string;
  /** The site key the agents verify with (security.siteKeyFile), in `dir`. */
  readonly siteKeyFile: string;
  dockerSocket(node: string): string;
}

export interface LoopbackSiteOptions {
  readonly site: string;
  readonly redisUrl: string;
  /** A temporary folder of the test's own: node disks, Docker sockets (absent) and storage go here. */
  readonly dir: string;
  /** Harbor's Redis; default: node01's address, on a free port nothing listens on. */
  readonly harborRedis?: { readonly host: string; readonly port: number };
  readonly changes?: Change[];
}

/**
 * loopbackSiteYaml made fit for real agents in the root namespace: free ports for PostgreSQL and
 * Harbor, Docker sockets that do not exist, node disks and shared storage in the test's folder.
 * Whatever the agents' probes reach stays on this machine (DESIGN §6: tests send traffic only
 * to loopback and the lab's own addresses).
 */
export async function loopbackSite(options: LoopbackSiteOptions): Promise<LoopbackSite> {
  const { dir } = options;
  const [pgPort, harborPort, spareRedisPort] = [await freePort(), await freePort(), await freePort()];
  const storageDir = join(dir, "shared");
  mkdirSync(storageDir, { recursive: true });
  const dockerSocket = (node: string) => join(dir, `${node}-docker.sock`);
  const changes: Change[] = [
    [["postgres", "port"], pgPort],
    [["harbor", "httpPort"], harborPort],
    [["harbor", "storage", "path"], storageDir],
    [["harborRedis", "port"], options.harborRedis?.port ?? spareRedisPort],
    [["security", "siteKeyFile"], writeTestSiteKey(dir)],
  ];
  if (options.harborRedis) changes.push([["harborRedis", "host"], options.harborRedis.host]);
  ["node01", "node02"].forEach((node, index) => {
    changes.push([["nodes", index, "dockerSocket"], dockerSocket(node)]);
    changes.push([["nodes", index, "dataRoot"], join(dir, `${node}-disk`)]);
  });
  const yaml = loopbackSiteYaml(options.site, options.redisUrl, [...changes, ...(options.changes ?? [])]);
  const siteKeyFile = writeTestSiteKey(dir);
  return { yaml, pgPort, harborPort, storageDir, siteKeyFile, dockerSocket };
}
