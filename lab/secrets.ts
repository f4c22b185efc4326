import { randomBytes } from "node:crypto";
import { ensureSiteKey } from "../config/site-key.ts";
import { readTextIfExists, writeFileIfChanged } from "./files.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/** The secrets the site config names by environment variable. */
export const LAB_SECRET_KEYS = [
  "HARBOR_HA_PG_PASSWORD",
  "HARBOR_HA_REPLICATION_PASSWORD",
  "HARBOR_HA_HARBOR_ADMIN_PASSWORD",
  "HARBOR_HA_REDIS_PASSWORD",
] as const;

/** The controller's Redis password; each agent's is LAB_AGENT_PASSWORD_PREFIX + NODE. */
export const LAB_REDIS_PASSWORD_KEY = "HARBOR_HA_REDIS_PASSWORD";
export const LAB_AGENT_PASSWORD_PREFIX = "HARBOR_HA_REDIS_AGENT_PASSWORD_";

export function labAgentPasswordKey(node: string): string {
  return `${LAB_AGENT_PASSWORD_PREFIX}${node.toUpperCase().replaceAll("-", "_")}`;
}

/** Every secret of a lab with these nodes: the site's, and one Redis password per node's agent. */
export function labSecretKeys(nodes: readonly string[]): string[] {
  return [...LAB_SECRET_KEYS, ...nodes.map(labAgentPasswordKey)];
}

/**
 * What one node's agent is started with: the site's secrets and its own Redis password, none
 * of the controller's or another agent's (as deploy writes a real node's agent.env).
 */
export function agentSecrets(all: Readonly<Record<string, string>>, node: string): Record<string, string> {
  const own = labAgentPasswordKey(node);
  return Object.fromEntries(
    Object.entries(all).filter(
      ([key]) =>
        key === own || (key !== LAB_REDIS_PASSWORD_KEY && !key.startsWith(LAB_AGENT_PASSWORD_PREFIX)),
    ),
  );
}

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
  keys: readonly string[] = LAB_SECRET_KEYS,
): Record<string, string> {
  const values: Record<string, string> = { ...current };
  for (const key of keys) if (!values[key]) values[key] = generate();
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

export async function ensureEnvFile(file: string, nodes: readonly string[]): Promise<StepResult> {
  const current = await readEnvFile(file);
  const keys = labSecretKeys(nodes);
  const values = completeSecrets(current, generateSecret, keys);
  const wrote = await writeFileIfChanged(file, renderEnvFile(values), 0o600);
  const generated = keys.filter((key) => !current[key]);
  if (!wrote) return unchanged(`${file} (${keys.length} secrets kept)`);
  return changed(generated.length > 0 ? `${file}: generated ${generated.join(", ")}` : `${file} rewritten`);
}

/** The site key is kept across ups like the other secrets: jobs signed before a second up still verify. */
export async function ensureLabSiteKey(file: string): Promise<StepResult> {
  const { key, created } = await ensureSiteKey(file);
  return created
    ? changed(`${file}: made the site key ${key.fingerprint}`)
    : unchanged(`${file} (site key ${key.fingerprint})`);
}
