import type Docker from "dockerode";
import { listManagedContainers } from "./managed-containers.ts";
import type { DockerFacts, ProbeReading } from "./observation.ts";
import { readProbe } from "./reading.ts";

/**
 * The node's Docker daemon: its version and the state of every container harbor-ha manages.
 * Read-only. The version is asked once per daemon run (it changes only with a restart, which
 * fails a list first and clears it), so a steady round costs Docker one list call.
 *
 * The list is Docker's view, which lags a `die` event by a moment (managed-containers.ts): the
 * round a Docker event triggers confirms its running containers with inspect.
 */
export class DockerProbe {
  private version: string | undefined;

  /** `where` names the daemon in errors (its socket), so a failure says which daemon failed. */
  constructor(
    private readonly docker: Docker,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {}

  /** `confirmRunning` right after a Docker event (managed-containers.ts). */
  async read(confirmRunning = false): Promise<ProbeReading<DockerFacts>> {
    const reading = await readProbe(this.timeoutMs, `Docker at ${this.where}`, async (signal) => {
      const [version, containers] = await Promise.all([
        this.version ?? versionOf(this.docker, signal),
        listManagedContainers(this.docker, signal, { confirmRunning }),
      ]);
      this.version = version;
      return { version, containers };
    });
    if (reading.ok) return reading;
    this.version = undefined;
    return { ...reading, error: `Docker at ${this.where}: ${reading.error}` };
  }
}

/** dockerode passes an abort signal to /version too; its type declarations omit the option. */
function versionOf(docker: Docker, signal: AbortSignal): Promise<string> {
  const withOptions = docker as unknown as {
    version(options: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion>;
  };
  return withOptions.version({ abortSignal: signal }).then((answer) => answer.Version);
}

/** One reading with a probe of its own (the ping job asks once, not in a loop). */
export function probeDocker(
  docker: Docker,
  where: string,
  timeoutMs: number,
): Promise<ProbeReading<DockerFacts>> {
  return new DockerProbe(docker, where, timeoutMs).read();
}
