import { HARBOR_DATABASE, SUPERUSER } from "./postgres-config.ts";
import { scramMatches } from "./postgres-scram.ts";

/**
 * What a running server says about itself, read with one query, and what the primary step
 * would change in its roles and databases. Pure: the query text, the parser and the judgement.
 */

export interface RoleRow {
  readonly name: string;
  readonly superuser: boolean;
  readonly replication: boolean;
  readonly login: boolean;
  /** pg_authid.rolpassword: the stored SCRAM secret, or null. */
  readonly password: string | null;
}

export interface ServerState {
  readonly inRecovery: boolean;
  readonly systemIdentifier: string;
  readonly roles: readonly RoleRow[];
  readonly databases: readonly string[];
  /** Settings whose file values differ from the running ones and that only a restart applies. */
  readonly pendingRestart: readonly string[];
  /** When the server last read its configuration files (ms since the epoch). */
  readonly configLoadedAt: number;
  /** Holds the replication password: compare it, never print it. */
  readonly primaryConninfo: string;
  /** Errors in postgresql.conf or pg_hba.conf as the server reads them now. */
  readonly configErrors: readonly string[];
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** One row, one JSON column: the whole state. pg_file_settings and pg_hba_file_rules re-read the files. */
export function serverStateQuery(roles: readonly string[]): string {
  return `select json_build_object(
  'inRecovery', pg_is_in_recovery(),
  'systemIdentifier', (select system_identifier::text from pg_control_system()),
  'roles', coalesce((select json_agg(json_build_object('name', rolname, 'superuser', rolsuper,
      'replication', rolreplication, 'login', rolcanlogin, 'password', rolpassword) order by rolname)
    from pg_authid where rolname = any (array[${roles.map(quoteLiteral).join(", ")}]::text[])), '[]'::json),
  'databases', (select json_agg(datname::text order by datname) from pg_database),
  'pendingRestart', coalesce((select json_agg(distinct name) from (
      select name from pg_settings where pending_restart
      union all
      -- A postmaster setting whose file value differs from the running one, reloaded or not.
      select name from pg_file_settings where error = 'setting could not be applied') pending), '[]'::json),
  'configLoadedAt', extract(epoch from pg_conf_load_time()),
  'primaryConninfo', current_setting('primary_conninfo'),
  'configErrors', coalesce((select json_agg(e) from (
      select 'postgresql.conf line ' || coalesce(sourceline::text, '?') || ': ' || error as e
        from pg_file_settings
        -- "could not be applied" is a setting that waits for a restart: pendingRestart says so.
        where error is not null and error <> 'setting could not be applied'
      union all
      select 'pg_hba.conf line ' || coalesce(line_number::text, '?') || ': ' || error
        from pg_hba_file_rules where error is not null) errors), '[]'::json))`;
}

export function parseServerState(text: string): ServerState {
  const value = JSON.parse(text) as Partial<ServerState>;
  if (typeof value.inRecovery !== "boolean" || typeof value.systemIdentifier !== "string") {
    throw new Error(`not a server state: ${text.slice(0, 200)}`);
  }
  return {
    inRecovery: value.inRecovery,
    systemIdentifier: value.systemIdentifier,
    roles: value.roles ?? [],
    databases: value.databases ?? [],
    pendingRestart: value.pendingRestart ?? [],
    // The query says seconds; the files' mtimes are in ms.
    configLoadedAt: Math.round((value.configLoadedAt ?? 0) * 1000),
    primaryConninfo: value.primaryConninfo ?? "",
    configErrors: value.configErrors ?? [],
  };
}

export interface AccountChange {
  /** What it would do, never with the password ("create role replicator ..."). */
  readonly description: string;
  /** The same, once done ("created role replicator ..."). */
  readonly done: string;
  readonly sql: string;
}

export interface AccountTargets {
  readonly replicationUser: string;
  readonly superuserPassword: string;
  readonly replicationPassword: string;
}

/**
 * What the primary lacks: the superuser's password, the replication role (LOGIN REPLICATION
 * with its password) and Harbor's database. `verifier` makes a SCRAM secret from a password.
 */
export function accountChanges(
  state: Pick<ServerState, "roles" | "databases">,
  targets: AccountTargets,
  verifier: (password: string) => string,
): AccountChange[] {
  const changes: AccountChange[] = [];
  const role = (name: string) => state.roles.find((r) => r.name === name);

  if (!scramMatches(role(SUPERUSER)?.password, targets.superuserPassword)) {
    changes.push({
      description: `set the password of ${SUPERUSER}`,
      done: `set the password of ${SUPERUSER}`,
      sql: `ALTER ROLE ${quoteIdent(SUPERUSER)} WITH PASSWORD ${quoteLiteral(verifier(targets.superuserPassword))}`,
    });
  }

  const name = targets.replicationUser;
  const replicator = role(name);
  const password = () => quoteLiteral(verifier(targets.replicationPassword));
  if (!replicator) {
    changes.push({
      description: `create role ${name} (LOGIN REPLICATION)`,
      done: `created role ${name} (LOGIN REPLICATION)`,
      sql: `CREATE ROLE ${quoteIdent(name)} WITH LOGIN REPLICATION PASSWORD ${password()}`,
    });
  } else {
    const missing = [
      ...(replicator.login ? [] : ["LOGIN"]),
      ...(replicator.replication ? [] : ["REPLICATION"]),
    ];
    const passwordOk = scramMatches(replicator.password, targets.replicationPassword);
    if (missing.length > 0 || !passwordOk) {
      const what = [...missing, ...(passwordOk ? [] : ["password"])].join(", ");
      changes.push({
        description: `alter role ${name} (${what})`,
        done: `altered role ${name} (${what})`,
        sql: `ALTER ROLE ${quoteIdent(name)} WITH LOGIN REPLICATION${passwordOk ? "" : ` PASSWORD ${password()}`}`,
      });
    }
  }

  if (!state.databases.includes(HARBOR_DATABASE)) {
    changes.push({
      description: `create database ${HARBOR_DATABASE}`,
      done: `created database ${HARBOR_DATABASE}`,
      sql: `CREATE DATABASE ${quoteIdent(HARBOR_DATABASE)} OWNER ${quoteIdent(SUPERUSER)} ENCODING 'UTF8' TEMPLATE template0`,
    });
  }
  return changes;
}

/** The key=value pairs of a conninfo string (values unquoted). */
export function parseConninfo(conninfo: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const pattern = /([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g;
  for (const match of conninfo.matchAll(pattern)) {
    const [, key, raw] = match;
    if (!key || raw === undefined) continue;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    pairs.set(key, value);
  }
  return pairs;
}
