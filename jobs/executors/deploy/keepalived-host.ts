import { execFile } from "node:child_process";
import { mkdir, rename, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { readTextIfExists, writeAtomically } from "../../../support/files.ts";

export { readTextIfExists, writeAtomically };

/**
 * The node's own files and interfaces as its agent sees them: the agent runs on the node (in the
 * lab, inside the node's network namespace), so the node's disk and addresses are local to it.
 */

const execFileAsync = promisify(execFile);

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
}

/** Moves a whole file into place (same folder, so the rename is atomic). */
export async function replaceFile(from: string, to: string): Promise<void> {
  await rename(from, to);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** `ip -o -4 addr show dev IFACE`: one line per IPv4 address (parse with parseIpv4Addresses). */
export async function showIpv4Addresses(iface: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync("ip", ["-o", "-4", "addr", "show", "dev", iface], {
      timeout: 5_000,
    });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`cannot list the addresses of interface ${iface}: ${stderr || (error as Error).message}`);
  }
}
