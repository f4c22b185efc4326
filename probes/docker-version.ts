import type Docker from "dockerode";

export type DockerVersionObservation =
  | { readonly ok: true; readonly version: string; readonly apiVersion: string; readonly durationMs: number }
  | { readonly ok: false; readonly error: string; readonly durationMs: number };

/**
 * Asks a node's Docker daemon for its version. Never throws and changes nothing: a dead or
 * hung daemon is an observation like any other.
 */
export async function probeDockerVersion(
  docker: Docker,
  timeoutMs: number,
): Promise<DockerVersionObservation> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const version = await Promise.race([docker.version(), timeout]);
    return {
      ok: true,
      version: version.Version,
      apiVersion: version.ApiVersion,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message, durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
