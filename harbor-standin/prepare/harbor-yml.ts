import { isAbsolute } from "node:path";
import { parse } from "yaml";

/**
 * The parts of harbor.yml the stand-in uses, read the way Harbor's prepare reads them. The
 * stand-in has no database or Redis of its own, so external_database and external_redis are
 * required; anything it cannot honour is an error that names the key.
 */
export interface HarborYml {
  readonly hostname: string;
  readonly httpPort: number;
  readonly adminPassword: string;
  readonly dataVolume: string;
  /** Where image blobs go on the host: storage_service.filesystem.rootdirectory. */
  readonly storageRoot: string;
  readonly version: string;
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    readonly password: string;
  };
  readonly redis: { readonly host: string; readonly port: number; readonly password: string };
}

export class HarborYmlInvalid extends Error {
  override readonly name = "HarborYmlInvalid";
}

type Raw = Record<string, unknown>;

function at(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Raw)[key];
  }
  return value;
}

function text(root: unknown, path: string, fallback?: string): string {
  const value = at(root, path);
  if (value === undefined || value === null || value === "") {
    if (fallback !== undefined) return fallback;
    throw new HarborYmlInvalid(`${path} is required`);
  }
  if (typeof value !== "string" && typeof value !== "number")
    throw new HarborYmlInvalid(`${path} must be a string`);
  return String(value);
}

function port(root: unknown, path: string, fallback?: number): number {
  const value = at(root, path) ?? fallback;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > 65535) {
    throw new HarborYmlInvalid(`${path} must be a port number`);
  }
  return number;
}

function absolute(value: string, path: string): string {
  if (!isAbsolute(value)) throw new HarborYmlInvalid(`${path} must be an absolute path, not ${value}`);
  return value;
}

/** Harbor 2.x: external_redis.host is "host:port". */
function hostAndPort(value: string, path: string): { host: string; port: number } {
  const cut = value.lastIndexOf(":");
  const host = cut < 0 ? value : value.slice(0, cut);
  const portText = cut < 0 ? "6379" : value.slice(cut + 1);
  const number = Number(portText);
  if (host === "" || !Number.isInteger(number) || number < 1 || number > 65535) {
    throw new HarborYmlInvalid(`${path} must be host:port, not ${value}`);
  }
  return { host, port: number };
}

export function parseHarborYml(source: string): HarborYml {
  let root: unknown;
  try {
    root = parse(source);
  } catch (error) {
    throw new HarborYmlInvalid(`harbor.yml is not valid YAML: ${(error as Error).message}`);
  }
  if (at(root, "https") !== undefined && at(root, "https") !== null) {
    throw new HarborYmlInvalid("https is not supported by the stand-in: remove the https section");
  }
  if (!at(root, "external_database.harbor")) {
    throw new HarborYmlInvalid(
      "external_database.harbor is required: the stand-in has no database of its own",
    );
  }
  if (!at(root, "external_redis")) {
    throw new HarborYmlInvalid("external_redis is required: the stand-in has no Redis of its own");
  }
  const storage = at(root, "storage_service") as Raw | undefined;
  const other = Object.keys(storage ?? {}).filter((key) => key !== "filesystem" && key !== "ca_bundle");
  if (other.length > 0) {
    throw new HarborYmlInvalid(
      `storage_service.${other[0]} is not supported by the stand-in: use filesystem`,
    );
  }
  const dataVolume = absolute(text(root, "data_volume", "/data"), "data_volume");
  const redis = hostAndPort(text(root, "external_redis.host"), "external_redis.host");
  return {
    hostname: text(root, "hostname"),
    httpPort: port(root, "http.port", 80),
    adminPassword: text(root, "harbor_admin_password"),
    dataVolume,
    storageRoot: absolute(
      text(root, "storage_service.filesystem.rootdirectory", `${dataVolume}/registry`),
      "storage_service.filesystem.rootdirectory",
    ),
    version: text(root, "_version", ""),
    database: {
      host: text(root, "external_database.harbor.host"),
      port: port(root, "external_database.harbor.port", 5432),
      name: text(root, "external_database.harbor.db_name"),
      user: text(root, "external_database.harbor.username"),
      password: text(root, "external_database.harbor.password"),
    },
    redis: { ...redis, password: text(root, "external_redis.password", "") },
  };
}
