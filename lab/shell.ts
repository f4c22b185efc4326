import { spawn } from "node:child_process";
import { HarborHaError } from "../support/errors.ts";

/** What a finished command left behind. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Text written to the command's standard input. */
  input?: string;
  /** Kill the command after this long; it then counts as failed. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Return a non-zero exit instead of throwing (the caller decides what it means). */
  allowFailure?: boolean;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const TAIL_CHARS = 2_000;

export function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part}'`)).join(" ");
}

export function tail(text: string, chars = TAIL_CHARS): string {
  const trimmed = text.trim();
  return trimmed.length > chars ? `…${trimmed.slice(-chars)}` : trimmed;
}

/**
 * Runs one command to completion without a shell (arguments are never re-parsed), collecting its
 * output. A failure is a COMMAND_FAILED error that names the command, its exit code and the tail
 * of its standard error, so a step's failure says what went wrong without a second run.
 */
export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const printable = describeCommand(command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => {
      // A command that exits without reading its input: its exit status tells what happened.
    });
    child.stdin.end(options.input ?? "");
    child.on("error", (cause) => {
      reject(
        new HarborHaError("COMMAND_FAILED", `cannot run ${command}: ${cause.message}`, {
          action: printable,
          hint: `install the package that provides ${command} (lab up installs the lab's packages)`,
          context: { command, args },
          cause,
        }),
      );
    });
    child.on("close", (code, signal) => {
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      };
      if (result.code === 0 || options.allowFailure) {
        resolve(result);
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with ${result.code}`;
      const detail = tail(result.stderr) || tail(result.stdout);
      reject(
        new HarborHaError("COMMAND_FAILED", `${printable} ${how}${detail ? `: ${detail}` : ""}`, {
          action: printable,
          hint: "read the command's output above; the lab can be removed with `harbor-ha lab down`",
          context: { command, args, code: result.code, signal, stderr: tail(result.stderr) },
        }),
      );
    });
  });
}

/** Runs a command and returns its standard output. */
export async function output(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return (await run(command, args, options)).stdout;
}
