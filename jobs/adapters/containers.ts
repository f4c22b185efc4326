import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { HarborHaError } from "../../support/errors.ts";

/** The label every container harbor-ha manages carries, naming its part of the stack. */
/** A one-shot tool (initdb, pg_basebackup, pg_rewind, pg_waldump) killed after this long. */
export const ONE_SHOT_TIMEOUT_MS = 30 * 60_000;

export const COMPONENT_LABEL = "io.harbor-ha.component";
/** A hash of the spec a container was made from: a changed spec means re-create. */
export const SPEC_LABEL = "io.harbor-ha.spec";

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly component: string;
  readonly cmd: readonly string[];
  readonly user?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** host:container[:ro] */
  readonly binds?: readonly string[];
  readonly capAdd?: readonly string[];
  readonly stopSignal?: string;
  readonly workingDir?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ContainerState {
  readonly id: string;
  readonly running: boolean;
  readonly exitCode: number;
  readonly specHash: string | undefined;
  readonly component: string | undefined;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type EnsureResult = "running" | "started" | "created" | "recreated";

export function specHash(spec: ContainerSpec): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/**
 * The container runtime of one node (its Docker daemon), as harbor-ha uses it: host networking
 * (services listen on the node's address) and restart policy "no" always — the agent restarts
 * containers, Docker never does, so a crashed old primary cannot come back by itself.
 */
export class Containers {
  constructor(private readonly docker: Docker) {}

  async inspect(name: string): Promise<ContainerState | undefined> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      return {
        id: info.Id,
        running: info.State.Running,
        exitCode: info.State.ExitCode,
        specHash: info.Config.Labels?.[SPEC_LABEL],
        component: info.Config.Labels?.[COMPONENT_LABEL],
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** What ensureRunning would do, without doing it. */
  async plan(spec: ContainerSpec): Promise<EnsureResult> {
    const state = await this.inspect(spec.name);
    if (!state) return "created";
    if (state.specHash !== specHash(spec)) return "recreated";
    return state.running ? "running" : "started";
  }

  async ensureRunning(spec: ContainerSpec): Promise<EnsureResult> {
    const action = await this.plan(spec);
    if (action === "running") return action;
    if (action === "recreated") {
      // Stop with the container's own stop signal first: a forced remove is a SIGKILL, which a
      // database takes as a crash (PostgreSQL's fast shutdown is SIGINT, LAB.md pitfall 11).
      await this.stop(spec.name);
      await this.remove(spec.name);
    }
    if (action !== "started") await this.create(spec);
    await this.docker.getContainer(spec.name).start();
    return action;
  }

  private async create(spec: ContainerSpec): Promise<void> {
    await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Cmd: [...spec.cmd],
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(spec.stopSignal ? { StopSignal: spec.stopSignal } : {}),
      Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
      Labels: { ...spec.labels, [COMPONENT_LABEL]: spec.component, [SPEC_LABEL]: specHash(spec) },
      HostConfig: {
        NetworkMode: "host",
        RestartPolicy: { Name: "no" },
        Binds: [...(spec.binds ?? [])],
        CapAdd: [...(spec.capAdd ?? [])],
        LogConfig: { Type: "json-file", Config: { "max-size": "100m", "max-file": "3" } },
      },
    });
  }

  /** Starts an existing container as it is; one that already runs stays as it is. */
  async start(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).start();
    } catch (error) {
      // 304: already started.
      if ((error as { statusCode?: number }).statusCode !== 304) throw error;
    }
  }

  /** Docker's restart policy of a container ("no", "always", "on-failure", "unless-stopped"). */
  async restartPolicy(name: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      return info.HostConfig.RestartPolicy?.Name || "no";
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Sets the restart policy to "no": a container harbor-ha stopped must stay stopped. */
  async disableRestart(name: string): Promise<void> {
    await this.docker.getContainer(name).update({ RestartPolicy: { Name: "no", MaximumRetryCount: 0 } });
  }

  /** Stops gracefully (the container's stop signal), then SIGKILL after timeoutSeconds. */
  async stop(name: string, timeoutSeconds = 30): Promise<void> {
    try {
      await this.docker.getContainer(name).stop({ t: timeoutSeconds });
    } catch (error) {
      // 304: already stopped; 404: no such container. Both mean "stopped".
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 304 && status !== 404) throw error;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Runs a command inside a running container and collects its output. */
  async exec(
    name: string,
    cmd: readonly string[],
    options: { user?: string; env?: Record<string, string> } = {},
  ) {
    const exec = await this.docker.getContainer(name).exec({
      Cmd: [...cmd],
      AttachStdout: true,
      AttachStderr: true,
      ...(options.user ? { User: options.user } : {}),
      Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const { stdout, stderr } = await collect(this.docker, stream);
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout, stderr } satisfies ExecResult;
  }

  /**
   * Runs a one-shot container (initdb, pg_basebackup, pg_rewind) to its end and removes it.
   * A leftover container of the same name, from an interrupted run, is removed first.
   */
  async runOnce(
    spec: ContainerSpec,
    options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    await this.remove(spec.name);
    await this.create(spec);
    const container = this.docker.getContainer(spec.name);
    const timeoutMs = options.timeoutMs ?? ONE_SHOT_TIMEOUT_MS;
    let stopped: string | undefined;
    // container.wait() hears no abort: the container itself is killed, and then wait() returns.
    const kill = (why: string) => {
      stopped ??= why;
      container.kill().catch(() => {});
    };
    const onAbort = () => kill("its job was cancelled (timed out)");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => kill(`it ran past ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    try {
      if (options.signal?.aborted) onAbort();
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const output = collect(this.docker, stream);
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const { stdout, stderr } = await output;
      if (stopped) {
        throw new HarborHaError("CONTAINER_TIMEOUT", `${spec.name} was killed: ${stopped}`, {
          action: `run ${spec.name} to its end`,
          hint: "read its output below; a one-shot tool that hangs points at a stuck disk or an unreachable peer",
          context: { output: `${stdout}\n${stderr}`.trim().slice(-2_000) },
        });
      }
      return { exitCode: StatusCode, stdout, stderr };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      await this.remove(spec.name);
    }
  }

  /** The last lines a container wrote, for a failure's report. */
  async logsTail(name: string, lines = 20): Promise<string> {
    try {
      const buffer = (await this.docker
        .getContainer(name)
        .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return demuxBuffer(buffer);
    } catch (error) {
      if (isNotFound(error)) return "";
      throw error;
    }
  }
}

function collect(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (chunk) => {
    stdout += chunk;
  });
  err.on("data", (chunk) => {
    stderr += chunk;
  });
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on("end", () => resolve({ stdout, stderr }));
    stream.on("close", () => resolve({ stdout, stderr }));
    stream.on("error", reject);
  });
}

/** Docker's multiplexed log format: 8-byte headers (stream, size) before each frame. */
function demuxBuffer(buffer: Buffer): string {
  if (!Buffer.isBuffer(buffer)) return String(buffer);
  const parts: string[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString("utf8"));
    offset += 8 + size;
  }
  return parts.join("");
}
