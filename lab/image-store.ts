import { IMAGE_LABEL, type ImageRecipe, NODE_IMAGE_RECIPE, recipeHash } from "./image.ts";
import type { LabPaths } from "./paths.ts";
import { dockerAnswers, dockerClient } from "./probes.ts";

/**
 * Each node's dockerd keeps its image store beside the image cache (`~/.cache/harbor-ha/
 * docker-root/NODE`), not in the lab's folder: importing the node image into two daemons takes
 * 11 s on 2 cores, every `lab up`, and the test suite brings the lab up a dozen times. What a lab
 * made in a store (containers, their volumes, Harbor's loaded images, networks) is removed when
 * it goes down, and again when a lab comes up anew (a store left by a killed `lab down`), so
 * every new lab starts bare: only the node image stays. A `lab up` on a running lab purges nothing.
 */

export interface PurgeCount {
  readonly containers: number;
  readonly volumes: number;
  readonly images: number;
  readonly networks: number;
}

const BUILT_IN_NETWORKS = new Set(["bridge", "host", "none"]);

/** Removes everything but the node image (of this recipe) from one daemon's store. */
export async function purgeDaemon(
  socketPath: string,
  recipe: ImageRecipe = NODE_IMAGE_RECIPE,
): Promise<PurgeCount> {
  const docker = dockerClient(socketPath, 60_000);
  const hash = recipeHash(recipe);
  const containers = await docker.listContainers({ all: true });
  for (const container of containers)
    await docker.getContainer(container.Id).remove({ force: true, v: true });
  const { Volumes: volumes } = await docker.listVolumes();
  for (const volume of volumes ?? []) await docker.getVolume(volume.Name).remove({ force: true });
  let images = 0;
  for (const image of await docker.listImages({ all: false })) {
    const kept = image.RepoTags?.includes(recipe.tag) && image.Labels?.[IMAGE_LABEL] === hash;
    // Another name for the node image is the lab's too: untagging it leaves the image.
    const names = kept ? (image.RepoTags ?? []).filter((tag) => tag !== recipe.tag) : [image.Id];
    for (const name of names) await docker.getImage(name).remove({ force: !kept });
    images += names.length;
  }
  const networks = (await docker.listNetworks()).filter((network) => !BUILT_IN_NETWORKS.has(network.Name));
  for (const network of networks) await docker.getNetwork(network.Id).remove();
  return {
    containers: containers.length,
    volumes: volumes?.length ?? 0,
    images,
    networks: networks.length,
  };
}

/** Purges every node's daemon that answers (a dead one is purged by the next `lab up`). */
export async function purgeNodeDaemons(
  paths: LabPaths,
  nodes: readonly { readonly name: string }[],
): Promise<PurgeCount> {
  const counts = await Promise.all(
    nodes.map(async (node) => {
      const socket = paths.node(node.name).dockerSocket;
      if (!(await dockerAnswers(socket))) return { containers: 0, volumes: 0, images: 0, networks: 0 };
      return purgeDaemon(socket);
    }),
  );
  return counts.reduce<PurgeCount>(
    (sum, count) => ({
      containers: sum.containers + count.containers,
      volumes: sum.volumes + count.volumes,
      images: sum.images + count.images,
      networks: sum.networks + count.networks,
    }),
    { containers: 0, volumes: 0, images: 0, networks: 0 },
  );
}

export function purgeText(count: PurgeCount): string {
  const parts = [
    [count.containers, "container"],
    [count.volumes, "volume"],
    [count.images, "image"],
    [count.networks, "network"],
  ] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}${n === 1 ? "" : "s"}`);
  return said.length > 0 ? said.join(", ") : "nothing";
}
