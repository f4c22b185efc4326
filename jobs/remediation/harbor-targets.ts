import type { HarborHealth } from "../deploy/harbor-health.ts";

/**
 * Which Harbor containers harbor.restart restarts on a node (pure). A name in the request may be
 * a container (harbor-core), a compose service (core) or a health component (registry). Without
 * names: every container that is not running, every one whose health component is unhealthy, and
 * the API's own (core) when the health endpoint does not answer at all. A failing component with
 * no container on the node (the database, reached through the VIP) is nothing a restart here
 * fixes: it is reported, not restarted.
 */

export interface HarborContainer {
  readonly name: string;
  /** The compose service it runs (io.harbor-ha.compose-service), if any. */
  readonly service: string | undefined;
  readonly running: boolean;
}

/** The service that answers /api/v2.0/health. */
export const API_SERVICE = "core";

function matches(container: HarborContainer, name: string): boolean {
  return container.name === name || container.service === name || container.name === `harbor-${name}`;
}

export type TargetChoice =
  | { readonly ok: true; readonly targets: readonly string[]; readonly why: readonly string[] }
  | { readonly ok: false; readonly unknown: readonly string[] };

/** The API's container restarts last: it checks the others when it starts answering. */
function ordered(containers: readonly HarborContainer[], names: ReadonlySet<string>): string[] {
  const chosen = containers.filter((c) => names.has(c.name));
  const api = chosen.filter((c) => matches(c, API_SERVICE));
  return [...chosen.filter((c) => !api.includes(c)), ...api].map((c) => c.name);
}

export function chooseTargets(
  containers: readonly HarborContainer[],
  health: HarborHealth | undefined,
  requested: readonly string[] | undefined,
): TargetChoice {
  const names = new Set<string>();
  const why: string[] = [];
  if (requested && requested.length > 0) {
    const unknown: string[] = [];
    for (const name of requested) {
      const found = containers.filter((c) => matches(c, name));
      if (found.length === 0) unknown.push(name);
      for (const c of found) names.add(c.name);
    }
    if (unknown.length > 0) return { ok: false, unknown };
    return { ok: true, targets: ordered(containers, names), why: ["named in the request"] };
  }
  for (const c of containers) {
    if (!c.running) {
      names.add(c.name);
      why.push(`${c.name} is not running`);
    }
  }
  if (!health) {
    for (const c of containers.filter((c) => matches(c, API_SERVICE))) {
      if (!names.has(c.name)) why.push(`${c.name}: the health endpoint does not answer`);
      names.add(c.name);
    }
  } else {
    for (const component of health.components.filter((h) => h.status !== "healthy")) {
      for (const c of containers.filter((c) => matches(c, component.name))) {
        if (!names.has(c.name))
          why.push(`${c.name}: ${component.name} ${component.error ?? component.status}`);
        names.add(c.name);
      }
    }
  }
  return { ok: true, targets: ordered(containers, names), why };
}

/** The health components that are not healthy (all of them, as "api", when nothing answered). */
export function failingComponents(health: HarborHealth | undefined): string[] {
  if (!health) return ["api"];
  return health.components.filter((c) => c.status !== "healthy").map((c) => c.name);
}
