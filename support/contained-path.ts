import { isAbsolute, relative, resolve } from "node:path";
import { HarborHaError } from "./errors.ts";

/**
 * A path built from a job's payload must stay where it belongs: no "..", nothing absolute where a
 * name is expected, nothing that resolves outside its folder. Agents check again what the
 * schema already checked, since a path is where a forged value turns into running code.
 */
export class PayloadPathError extends HarborHaError {
  constructor(what: string, value: string, why: string, folder?: string) {
    super("PAYLOAD_PATH_REFUSED", `${what} ${JSON.stringify(value)} refused: ${why}`, {
      action: `build the path of ${what}`,
      hint: "a job's payload named a path outside where it belongs; the job was not run. Check the audit log for who queued it",
      context: { what, value, ...(folder ? { folder } : {}) },
    });
    this.name = "PayloadPathError";
  }
}

/** A single file or folder name: no separator, no "..", not empty, nothing but plain characters. */
export function assertPlainName(what: string, value: string): string {
  if (value === "" || value === "." || value === ".." || /[/\\\0]/.test(value) || value.includes("..")) {
    throw new PayloadPathError(what, value, "not a plain name (no '/', no '..')");
  }
  return value;
}

/** `path`, once resolved, lies inside `folder` (or is it). */
export function assertInside(what: string, folder: string, path: string): string {
  if (!isAbsolute(folder)) throw new PayloadPathError(what, folder, "its folder is not absolute");
  const resolved = resolve(folder, path);
  const rel = relative(resolve(folder), resolved);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new PayloadPathError(what, path, `outside ${folder}`, folder);
  }
  return resolved;
}
