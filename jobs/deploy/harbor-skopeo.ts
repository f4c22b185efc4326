import { spawn } from "node:child_process";

/**
 * skopeo, the registry client the client check drives: a real implementation of the registry
 * protocol (the same library podman and CRI-O use) with no daemon of its own. Each run gets an
 * environment of its own, so no credentials of the operations host's user can leak in.
 */

export interface ClientRun {
  readonly code: number;
  readonly output: string;
  readonly ms: number;
}

export interface SkopeoOptions {
  /** A private folder: HOME and XDG_RUNTIME_DIR point here, so only auth files we write are used. */
  readonly home: string;
  /** host:port of the registry, plain HTTP. */
  readonly registry: string;
  readonly timeoutMs?: number;
}

export class Skopeo {
  constructor(private readonly options: SkopeoOptions) {}

  run(args: readonly string[], input?: string): Promise<ClientRun> {
    const started = performance.now();
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: this.options.home,
      XDG_RUNTIME_DIR: this.options.home,
      LANG: "C.UTF-8",
    };
    return new Promise((resolve) => {
      const child = spawn("skopeo", [...args], {
        env,
        stdio: ["pipe", "pipe", "pipe"],
        timeout: this.options.timeoutMs ?? 120_000,
        killSignal: "SIGKILL",
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
      });
      child.stdin.on("error", () => {});
      child.stdin.end(input ?? "");
      const finish = (code: number, extra = "") =>
        resolve({ code, output: `${output}${extra}`.trim(), ms: performance.now() - started });
      child.on("error", (error) => finish(-1, `cannot run skopeo: ${error.message}`));
      child.on("close", (code, signal) => finish(code ?? -1, signal ? ` (killed by ${signal})` : ""));
    });
  }

  version(): Promise<ClientRun> {
    return this.run(["--version"]);
  }

  /** `skopeo login`, the password on standard input (never in the process list). */
  login(authFile: string, username: string, password: string): Promise<ClientRun> {
    return this.run(
      [
        "login",
        "--authfile",
        authFile,
        "--tls-verify=false",
        "--username",
        username,
        "--password-stdin",
        this.options.registry,
      ],
      password,
    );
  }

  /** oci:LAYOUT:REF -> docker://REGISTRY/REPO; with no auth file, anonymously. */
  push(layout: string, ref: string, repository: string, authFile?: string): Promise<ClientRun> {
    return this.run([
      "copy",
      "--retry-times",
      "0",
      "--dest-tls-verify=false",
      ...(authFile ? ["--dest-authfile", authFile] : ["--dest-no-creds"]),
      `oci:${layout}:${ref}`,
      `docker://${this.options.registry}/${repository}`,
    ]);
  }

  /** docker://REGISTRY/REPO -> oci:LAYOUT:REF; with no auth file, anonymously. */
  pull(repository: string, layout: string, ref: string, authFile?: string): Promise<ClientRun> {
    return this.run([
      "copy",
      "--retry-times",
      "0",
      "--src-tls-verify=false",
      ...(authFile ? ["--src-authfile", authFile] : ["--src-no-creds"]),
      `docker://${this.options.registry}/${repository}`,
      `oci:${layout}:${ref}`,
    ]);
  }
}

/**
 * Why skopeo failed, in short: its fatal log line's msg, digests shortened
 * (`level=fatal msg="reading manifest latest in …: unauthorized"`).
 */
export function failureReason(output: string): string {
  const lines = output.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const message = last.match(/msg="((?:[^"\\]|\\.)*)"/)?.[1]?.replaceAll('\\"', '"') ?? last;
  const short = message.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, "sha256:$1…");
  return short.length > 240 ? `${short.slice(0, 240)}…` : short;
}
