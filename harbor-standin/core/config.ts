/**
 * The stand-in core's configuration (common/config/core/config.json), written by prepare from
 * harbor.yml. It holds passwords: prepare writes it mode 600.
 */
export interface CoreConfig {
  readonly listen: { readonly host: string; readonly port: number };
  /** The distribution registry the core fronts, on loopback. */
  readonly registryUrl: string;
  readonly admin: { readonly username: string; readonly password: string };
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    readonly password: string;
  };
  readonly redis: { readonly host: string; readonly port: number; readonly password: string };
  /** What /api/v2.0/systeminfo reports, e.g. "v2.2.2-standin". */
  readonly harborVersion: string;
  readonly hostname: string;
}

export function parseCoreConfig(text: string): CoreConfig {
  const value = JSON.parse(text) as Partial<CoreConfig>;
  const missing = (
    ["listen", "registryUrl", "admin", "database", "redis", "harborVersion", "hostname"] as const
  ).filter((key) => value[key] === undefined);
  if (missing.length > 0) throw new Error(`core config lacks ${missing.join(", ")}`);
  return value as CoreConfig;
}
