/**
 * Harbor's `/api/v2.0/health` answer: the overall status is healthy only when every component
 * is; an unhealthy component carries the error that made it so.
 */

export type ComponentStatus = "healthy" | "unhealthy";

export interface ComponentHealth {
  readonly name: string;
  readonly status: ComponentStatus;
  readonly error?: string;
}

export interface OverallHealth {
  readonly status: ComponentStatus;
  readonly components: readonly ComponentHealth[];
}

/** The result of one check: undefined when it passed, else why it failed. */
export type CheckResult = string | undefined;

export function componentHealth(name: string, failure: CheckResult): ComponentHealth {
  return failure === undefined ? { name, status: "healthy" } : { name, status: "unhealthy", error: failure };
}

/** Components in Harbor's order (alphabetical), whatever order the checks finished in. */
export function overallHealth(components: readonly ComponentHealth[]): OverallHealth {
  const sorted = [...components].sort((a, b) => a.name.localeCompare(b.name));
  return {
    status: sorted.every((c) => c.status === "healthy") ? "healthy" : "unhealthy",
    components: sorted,
  };
}
