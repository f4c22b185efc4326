/**
 * Harbor's `/api/v2.0/health` as harbor-ha reads it: the overall status and each component's,
 * with the error Harbor gives for an unhealthy one.
 */

export interface HarborComponentHealth {
  readonly name: string;
  readonly status: string;
  readonly error?: string;
}

export interface HarborHealth {
  readonly healthy: boolean;
  readonly components: readonly HarborComponentHealth[];
}

export type HarborHealthReading =
  | { readonly ok: true; readonly health: HarborHealth }
  | { readonly ok: false; readonly error: string };

export function parseHarborHealth(body: unknown): HarborHealth | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { status, components } = body as { status?: unknown; components?: unknown };
  if (typeof status !== "string" || !Array.isArray(components)) return undefined;
  const parsed: HarborComponentHealth[] = [];
  for (const component of components as unknown[]) {
    const { name, status: componentStatus, error } = (component ?? {}) as Record<string, unknown>;
    if (typeof name !== "string" || typeof componentStatus !== "string") return undefined;
    parsed.push(
      typeof error === "string" && error !== ""
        ? { name, status: componentStatus, error }
        : { name, status: componentStatus },
    );
  }
  return { healthy: status === "healthy", components: parsed };
}

/** "healthy (core, database, redis, registry)" or "unhealthy: database: connection refused". */
export function describeHarborHealth(health: HarborHealth): string {
  if (health.healthy) return `healthy (${health.components.map((c) => c.name).join(", ")})`;
  const failing = health.components
    .filter((c) => c.status !== "healthy")
    .map((c) => `${c.name}: ${c.error ?? c.status}`);
  return `unhealthy: ${failing.length > 0 ? failing.join("; ") : "no component is unhealthy, yet the status is not"}`;
}

export function harborBaseUrl(host: string, port: number): string {
  return `http://${host}:${port}`;
}

/** One reading of the health endpoint; a transport error or a malformed answer is a reading too. */
export async function readHarborHealth(baseUrl: string, timeoutMs = 5_000): Promise<HarborHealthReading> {
  try {
    const response = await fetch(`${baseUrl}/api/v2.0/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, error: `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}` };
    }
    const health = parseHarborHealth(body);
    if (!health) return { ok: false, error: `HTTP ${response.status}, not Harbor's health shape` };
    return { ok: true, health };
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return { ok: false, error: cause ?? (error as Error).message };
  }
}

/** Harbor's version as `/api/v2.0/systeminfo` reports it ("v2.2.2-<build>"), or undefined. */
export async function readHarborVersion(baseUrl: string, timeoutMs = 5_000): Promise<string | undefined> {
  try {
    const response = await fetch(`${baseUrl}/api/v2.0/systeminfo`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { harbor_version?: unknown };
    return typeof body.harbor_version === "string" ? body.harbor_version : undefined;
  } catch {
    return undefined;
  }
}

/** "v2.2.2-56d7937f" runs version "2.2.2". */
export function isHarborVersion(reported: string, version: string): boolean {
  const tag = version.startsWith("v") ? version : `v${version}`;
  return reported === tag || reported.startsWith(`${tag}-`);
}
