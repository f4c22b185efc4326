import { isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import type { ContainerSpec } from "../adapters/containers.ts";
import { COMPONENT_LABEL } from "../adapters/containers.ts";

/**
 * Reads the docker-compose.yml that Harbor's prepare generates and turns its services into
 * container specs for the Containers adapter, in dependency order: `compose up` without a compose
 * binary. It accepts the subset a host-network deployment uses and refuses anything else by
 * name, so nothing in the file is silently ignored.
 */

export const HARBOR_COMPONENT = "harbor";

export interface ComposeService {
  readonly service: string;
  readonly spec: ContainerSpec;
}

export class ComposeError extends Error {
  override readonly name = "ComposeError";
}

const SUPPORTED_KEYS = new Set([
  "image",
  "container_name",
  "command",
  "network_mode",
  "restart",
  "volumes",
  "environment",
  "user",
  "working_dir",
  "stop_signal",
  "labels",
  "depends_on",
  "cap_add",
]);

type Raw = Record<string, unknown>;

function stringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new ComposeError(`${what} must be a list of strings`);
  }
  return value as string[];
}

/** Compose's map-or-list form (`KEY: value` or `- KEY=value`). */
function keyValues(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    const entries: Record<string, string> = {};
    for (const item of stringList(value, what)) {
      const at = item.indexOf("=");
      entries[at < 0 ? item : item.slice(0, at)] = at < 0 ? "" : item.slice(at + 1);
    }
    return entries;
  }
  if (typeof value !== "object") throw new ComposeError(`${what} must be a map or a list`);
  return Object.fromEntries(Object.entries(value as Raw).map(([key, item]) => [key, String(item ?? "")]));
}

/** `./common/config/registry/:/etc/registry/:ro,z` -> an absolute `host:container[:ro]` bind. */
function bind(volume: string, baseDir: string, where: string): string {
  const [host, container, options] = volume.split(":");
  if (!host || !container || !isAbsolute(container)) {
    throw new ComposeError(`${where}: volume ${volume} is not HOST:CONTAINER[:OPTIONS]`);
  }
  if (!host.startsWith(".") && !isAbsolute(host)) {
    throw new ComposeError(`${where}: named volume ${host} is not supported; use a host path`);
  }
  const readOnly = (options ?? "").split(",").includes("ro");
  return `${resolve(baseDir, host)}:${container}${readOnly ? ":ro" : ""}`;
}

function service(name: string, raw: Raw, baseDir: string): ComposeService & { dependsOn: string[] } {
  const where = `service ${name}`;
  for (const key of Object.keys(raw)) {
    if (!SUPPORTED_KEYS.has(key)) throw new ComposeError(`${where}: compose key ${key} is not supported`);
  }
  if (raw.network_mode !== "host") {
    throw new ComposeError(`${where}: network_mode must be host (services listen on the node's address)`);
  }
  // harbor-ha restarts containers itself; a Docker restart policy could bring back a fenced node's service.
  if (raw.restart !== undefined && raw.restart !== "no") {
    throw new ComposeError(`${where}: restart must be "no", not ${String(raw.restart)}`);
  }
  if (typeof raw.image !== "string" || raw.image === "")
    throw new ComposeError(`${where}: image is required`);
  const command = typeof raw.command === "string" ? raw.command.split(/\s+/) : stringList(raw.command, where);
  const labels = keyValues(raw.labels, `${where} labels`);
  const dependsOn = Array.isArray(raw.depends_on)
    ? stringList(raw.depends_on, `${where} depends_on`)
    : Object.keys((raw.depends_on as Raw | undefined) ?? {});
  const env = keyValues(raw.environment, `${where} environment`);
  const binds = stringList(raw.volumes, `${where} volumes`).map((v) => bind(v, baseDir, where));
  const capAdd = stringList(raw.cap_add, `${where} cap_add`);
  const spec: ContainerSpec = {
    name: typeof raw.container_name === "string" ? raw.container_name : `harbor-${name}`,
    image: raw.image,
    component: labels[COMPONENT_LABEL] ?? HARBOR_COMPONENT,
    cmd: command,
    ...(typeof raw.user === "string" ? { user: raw.user } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(binds.length > 0 ? { binds } : {}),
    ...(capAdd.length > 0 ? { capAdd } : {}),
    ...(typeof raw.stop_signal === "string" ? { stopSignal: raw.stop_signal } : {}),
    ...(typeof raw.working_dir === "string" ? { workingDir: raw.working_dir } : {}),
    labels: { ...labels, "io.harbor-ha.compose-service": name },
  };
  return { service: name, spec, dependsOn };
}

/** Services in an order where each comes after those it depends on. */
export function composeServices(text: string, baseDir: string): ComposeService[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ComposeError(`docker-compose.yml is not valid YAML: ${(error as Error).message}`);
  }
  const services = (document as { services?: unknown } | null)?.services;
  if (typeof services !== "object" || services === null || Object.keys(services).length === 0) {
    throw new ComposeError("docker-compose.yml defines no services");
  }
  const parsed = new Map(
    Object.entries(services as Record<string, Raw>).map(([name, raw]) => [
      name,
      service(name, raw ?? {}, baseDir),
    ]),
  );
  const ordered: ComposeService[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, from: string) => {
    const entry = parsed.get(name);
    if (!entry) throw new ComposeError(`service ${from} depends on ${name}, which is not defined`);
    if (ordered.some((done) => done.service === name)) return;
    if (visiting.has(name))
      throw new ComposeError(`services depend on each other in a cycle through ${name}`);
    visiting.add(name);
    for (const dependency of entry.dependsOn) visit(dependency, name);
    visiting.delete(name);
    ordered.push({ service: entry.service, spec: entry.spec });
  };
  for (const name of [...parsed.keys()].sort()) visit(name, name);
  return ordered;
}

/** The same specs, labelled with what they were made from: changed inputs re-create the containers. */
export function withInputsLabel(services: readonly ComposeService[], inputsHash: string): ComposeService[] {
  return services.map(({ service: name, spec }) => ({
    service: name,
    spec: { ...spec, labels: { ...spec.labels, "io.harbor-ha.inputs": inputsHash } },
  }));
}
