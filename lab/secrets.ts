import { randomBytes } from "node:crypto";
import { ensureSiteKey } from "../config/site-key.ts";
import { readTextIfExists, writeFileIfChanged } from "./files.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/** The secrets the site config names by environment variable. */
export const LAB_SECRET_KEYS = [
  "HARBOR_HA_PG_PASSWORD",
  "HARBOR_HA_REPLICATION_PASSWORD",
  "HARBOR_HA_HARBOR_ADMIN_PASSWORD",
] as const;

/** Reads `KEY=value` lines; blank lines and comments are skipped, the value is everything after the first '='. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

/**
 * Keeps every secret already there and generates the missing ones: a second up must not change a
 * password that PostgreSQL has already been initialised with. Values are URL-safe base64, so
 * they need no quoting in a shell, a URL or a YAML file.
 */
export function completeSecrets(
  current: Readonly<Record<string, string>>,
  generate: () => string,
): Record<string, string> {
  const values: Record<string, string> = { ...current };
  for (const key of LAB_SECRET_KEYS) if (!values[key]) values[key] = generate();
  return values;
}

export function renderEnvFile(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([key, value]) => `${key}=${value}`);
  return `# Secrets of the local lab, written by harbor-ha lab up. Keep this file mode 600.\n${lines.join("\n")}\n`;
}

export const generateSecret = (): string => randomBytes(18).toString("base64url");

export async function readEnvFile(file: string): Promise<Record<string, string>> {
  return parseEnvFile((await readTextIfExists(file)) ?? "");
}

export async function ensureEnvFile(file: string): Promise<StepResult> {
  const current = await readEnvFile(file);
  const values = completeSecrets(current, generateSecret);
  const wrote = await writeFileIfChanged(file, renderEnvFile(values), 0o600);
  const generated = LAB_SECRET_KEYS.filter((key) => !current[key]);
  if (!wrote) return unchanged(`${file} (${LAB_SECRET_KEYS.length} secrets kept)`);
  return changed(generated.length > 0 ? `${file}: generated ${generated.join(", ")}` : `${file} rewritten`);
}

/** The site key is kept across ups like the other secrets: jobs signed before a second up still verify. */
export async function ensureLabSiteKey(file: string): Promise<StepResult> {
  const { key, created } = await ensureSiteKey(file);
  return created
    ? changed(`${file}: made the site key ${key.fingerprint}`)
    : unchanged(`${file} (site key ${key.fingerprint})`);
}
