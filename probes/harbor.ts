import { harborBaseUrl, readHarborHealth } from "../jobs/deploy/harbor-health.ts";
import type { HarborFacts, ProbeReading } from "./observation.ts";
import { readProbe } from "./reading.ts";

/**
 * The Harbor instance on this node, by its own health endpoint: overall and per component. A
 * reading is ok whenever Harbor answered with its health shape, healthy or not; it fails when
 * nothing (or something else) answered.
 */
export function probeHarbor(
  host: string,
  httpPort: number,
  timeoutMs: number,
): Promise<ProbeReading<HarborFacts>> {
  const baseUrl = harborBaseUrl(host, httpPort);
  return readProbe(timeoutMs, `Harbor at ${baseUrl}`, async () => {
    // readHarborHealth has its own fetch timeout; readProbe's deadline bounds the rest.
    const reading = await readHarborHealth(baseUrl, timeoutMs);
    if (!reading.ok) throw new Error(`Harbor at ${baseUrl}: ${reading.error}`);
    return { healthy: reading.health.healthy, components: reading.health.components };
  });
}
