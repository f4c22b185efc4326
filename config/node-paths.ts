import { isAbsolute, join } from "node:path";
import type { NodeConfig } from "./schema.ts";

/**
 * Where a per-node directory of the site config lives on a node: relative paths are under the
 * node's dataRoot (so nodes that share a filesystem, like the lab's, still get their own disk).
 */
export function nodeDataPath(node: Pick<NodeConfig, "dataRoot">, dir: string): string {
  return isAbsolute(dir) ? dir : join(node.dataRoot, dir);
}
