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

/** Docker's inspect answer, the part that says whether a container runs. */
export interface InspectedState {
  readonly Status?: string;
  readonly ExitCode?: number;
}

/**
 * A listed container corrected by its inspected state (pure). "Exited (137)" is Docker's own
 * status wording, without the age the list adds.
 */
export function withInspectedState(listed: ListedContainer, state: InspectedState): ListedContainer {
  const status = state.Status ?? listed.State;
  if (status === listed.State) return listed;
  const text =
    status === "exited"
      ? `Exited (${state.ExitCode ?? "?"})`
      : `${status?.slice(0, 1).toUpperCase()}${status?.slice(1)}`;
  return { ...listed, State: status, Status: text };
}

export interface ListOptions {
  /** Only this component's containers. */
  readonly component?: string;
  /**
   * Inspect each container the list calls running. Docker 20.10 sends a container's `die`
   * event before its list (a view kept apart from the container) says so: for a moment after
   * the event the list still shows it running. Inspect reads the container itself, under the
   * lock its exit handling holds, so a round that a `die` triggered sees the container exited.
   */
  readonly confirmRunning?: boolean;
}

/**
 * The managed containers of a node, running or not. Docker filters by label on its side: a
 * node's unrelated containers never cross the socket.
 */
export async function listManagedContainers(
  docker: Docker,
  signal: AbortSignal,
  options: ListOptions = {},
): Promise<ManagedContainer[]> {
  const { component, confirmRunning = false } = options;
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [component ? `${COMPONENT_LABEL}=${component}` : COMPONENT_LABEL] },
    abortSignal: signal,
  });
  if (!confirmRunning) return toManagedContainers(listed);
  const confirmed = await Promise.all(
    listed.map(async (entry): Promise<ListedContainer> => {
      if (entry.State !== "running") return entry;
      try {
        const info = await docker.getContainer(entry.Id).inspect({ abortSignal: signal });
        return withInspectedState(entry, info.State);
      } catch (error) {
        // Removed between the list and the inspect: gone, which is not running.
        if ((error as { statusCode?: number }).statusCode === 404)
          return { ...entry, State: "removed", Status: "Removed" };
        throw error;
      }
    }),
  );
  return toManagedContainers(confirmed);
}
