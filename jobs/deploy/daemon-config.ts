/**
 * The Docker daemon settings the runbook's step 0 needs, merged into whatever daemon.json a host
 * already has: other settings are kept, only what is missing or different changes.
 */
export const LOG_ROTATION = { "max-size": "100m", "max-file": "3" } as const;

export interface DaemonConfigChange {
  readonly config: Record<string, unknown>;
  /** One line per setting that changes, empty when the file is already right. */
  readonly changes: readonly string[];
}

/** `registry` is the VIP with Harbor's port (VIP:5000): clients push there over plain HTTP. */
export function mergeDaemonConfig(current: Record<string, unknown>, registry: string): DaemonConfigChange {
  const config: Record<string, unknown> = { ...current };
  const changes: string[] = [];
  const insecure = Array.isArray(current["insecure-registries"])
    ? (current["insecure-registries"] as unknown[])
    : [];
  if (!insecure.includes(registry)) {
    config["insecure-registries"] = [...insecure, registry];
    changes.push(`insecure-registries += ${registry}`);
  }
  if (current["log-driver"] !== "json-file") {
    config["log-driver"] = "json-file";
    changes.push(`log-driver ${String(current["log-driver"] ?? "(default)")} -> json-file`);
  }
  const opts = (current["log-opts"] ?? {}) as Record<string, unknown>;
  const wrong = Object.entries(LOG_ROTATION).filter(([key, value]) => opts[key] !== value);
  if (wrong.length > 0) {
    config["log-opts"] = { ...opts, ...LOG_ROTATION };
    changes.push(`log-opts ${wrong.map(([key, value]) => `${key}=${value}`).join(" ")}`);
  }
  return { config, changes };
}

/** daemon.json's text as read over SSH: absent or empty is `{}`; anything unparsable is an error. */
export function parseDaemonConfig(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("daemon.json does not hold a JSON object");
  }
  return parsed as Record<string, unknown>;
}
