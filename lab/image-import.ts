import {
  IMAGE_LABEL,
  type ImageRecipe,
  importChanges,
  NODE_IMAGE_RECIPE,
  recipeHash,
  tarballPath,
} from "./image.ts";
import { purgeNodeDaemons, purgeText } from "./image-store.ts";
import type { LabPaths } from "./paths.ts";
import { dockerClient } from "./probes.ts";
import { run } from "./shell.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";
import type { LabTopology } from "./topology.ts";

/** The recipe hash the node's image was imported from, or undefined when the node has no such image. */
export async function importedRecipe(socketPath: string, tag: string): Promise<string | undefined> {
  try {
    const info = await dockerClient(socketPath).getImage(tag).inspect();
    return info.Config?.Labels?.[IMAGE_LABEL] ?? "";
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/**
 * Imports the cached tarball into every node's daemon that lacks the image or holds one built
 * from another recipe. The nodes import in parallel; each reads the same file.
 */
export async function ensureImageImported(
  paths: LabPaths,
  topology: LabTopology,
  options: { readonly purge: boolean },
  recipe: ImageRecipe = NODE_IMAGE_RECIPE,
): Promise<StepResult> {
  const hash = recipeHash(recipe);
  const tarball = tarballPath(paths.imageCacheDir, recipe);
  const imported = await Promise.all(
    topology.nodes.map(async (node) => {
      const socket = paths.node(node.name).dockerSocket;
      if ((await importedRecipe(socket, recipe.tag)) === hash) return undefined;
      const changes = importChanges(recipe).flatMap((change) => ["--change", change]);
      await run("docker", ["--host", `unix://${socket}`, "import", ...changes, tarball, recipe.tag], {
        timeoutMs: 600_000,
      });
      return node.name;
    }),
  );
  const names = imported.filter((name): name is string => name !== undefined);
  // What a lab that did not come down cleanly left in the kept stores goes now: nodes start bare.
  const left = options.purge ? purgeText(await purgeNodeDaemons(paths, topology.nodes)) : "nothing";
  const purged = left === "nothing" ? "" : `; removed what the last lab left: ${left}`;
  if (names.length === 0) {
    const kept = `${recipe.tag} kept in the image stores of ${topology.nodes.map((n) => n.name).join(", ")}`;
    return purged ? changed(`${kept}${purged}`) : unchanged(kept);
  }
  return changed(`${recipe.tag} imported into ${names.join(", ")}${purged}`);
}
