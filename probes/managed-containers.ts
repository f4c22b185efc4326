import type Docker from "dockerode";
import { COMPONENT_LABEL } from "../jobs/adapters/containers.ts";
import type { ManagedContainer } from "./observation.ts";

/** The part of Docker's container list a probe reads (so tests can build one by hand). */
export interface ListedContainer {
  readonly Names?: readonly string[];
  readonly Id?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly State?: string;
  readonly Status?: string;
}

/** Docker's list entry as a ManagedContainer, or undefined for a container harbor-ha does not manage. */
export function toManagedContainer(listed: ListedContainer): ManagedContainer | undefined {
  const component = listed.Labels?.[COMPONENT_LABEL];
  if (!component) return undefined;
  // Docker names carry a leading slash ("/postgres-node01"); an unnamed one is known by its id.
  const name = listed.Names?.[0]?.replace(/^\//, "") ?? listed.Id?.slice(0, 12) ?? "unnamed";
  return { name, component, state: listed.State ?? "unknown", status: listed.Status ?? "" };
}

export function toManagedContainers(listed: readonly ListedContainer[]): ManagedContainer[] {
  return listed
    .map(toManagedContainer)
    .filter((container): container is ManagedContainer => container !== undefined)
    .sort((a, b) => a.component.localeCompare(b.component) || a.name.localeCompare(b.name));
}

/**
 * The managed containers of a node, running or not, optionally of one component only. Docker
 * filters by label on its side: a node's unrelated containers never cross the socket.
 */
export async function listManagedContainers(
  docker: Docker,
  signal: AbortSignal,
  component?: string,
): Promise<ManagedContainer[]> {
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [component ? `${COMPONENT_LABEL}=${component}` : COMPONENT_LABEL] },
    abortSignal: signal,
  });
  return toManagedContainers(listed);
}
