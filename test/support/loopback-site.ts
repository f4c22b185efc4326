import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./redis-server.ts";
import { siteYamlWith } from "./site-fixtures.ts";

export interface LoopbackSite {
  /** The site's YAML text. */
  readonly yaml: string;
  readonly pgPort: number;
  readonly harborPort: number;
  /** The shared storage folder (in `dir`). */
  readonly storageDir: string;
  dockerSocket(node: string): string;
}

export interface LoopbackSiteOptions {
  readonly site: string;
  readonly redisUrl: string;
  /** A temporary folder of the test's own: node disks, Docker sockets (absent) and storage go here. */
  readonly dir: string;
  /** Harbor's Redis; default: a free port nothing listens on. */
  readonly harborRedis?: { readonly host: string; readonly port: number };
  /** The VIP; default 127.0.0.100 on lo, which no node holds. */
  readonly vip?: { readonly address: string; readonly interface: string };
  readonly changes?: Array<[path: Array<string | number>, value: unknown]>;
}

/**
 * The example site moved onto loopback for agents that run in the root namespace: node addresses
 * 127.0.0.11/12, free ports for PostgreSQL and Harbor, Docker sockets that do not exist, disks and
 * shared storage in the test's folder. Whatever the agents' probes reach stays on this machine
 * (DESIGN §6: tests send traffic only to loopback and the lab's own addresses).
 */
export async function loopbackSite(options: LoopbackSiteOptions): Promise<LoopbackSite> {
  const { dir } = options;
  const [pgPort, harborPort, spareRedisPort] = [await freePort(), await freePort(), await freePort()];
  const storageDir = join(dir, "shared");
  mkdirSync(storageDir, { recursive: true });
  const dockerSocket = (node: string) => join(dir, `${node}-docker.sock`);
  const vip = options.vip ?? { address: "127.0.0.100", interface: "lo" };
  const harborRedis = options.harborRedis ?? { host: "127.0.0.11", port: spareRedisPort };
  const nodeChanges = ["node01", "node02"].flatMap(
    (node, index): Array<[Array<string | number>, unknown]> => [
      [["nodes", index, "address"], `127.0.0.${11 + index}`],
      [["nodes", index, "dockerSocket"], dockerSocket(node)],
      [["nodes", index, "dataRoot"], join(dir, `${node}-disk`)],
    ],
  );
  const yaml = siteYamlWith([
    [["site"], options.site],
    [["controlPlane", "redisUrl"], options.redisUrl],
    [["vip", "address"], vip.address],
    [["vip", "interface"], vip.interface],
    ...nodeChanges,
    [["postgres", "port"], pgPort],
    [["harbor", "httpPort"], harborPort],
    [["harbor", "storage", "path"], storageDir],
    [["harborRedis", "host"], harborRedis.host],
    [["harborRedis", "port"], harborRedis.port],
    ...(options.changes ?? []),
  ]);
  return { yaml, pgPort, harborPort, storageDir, dockerSocket };
}
