import { nodeDataPath } from "../../config/node-paths.ts";
import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import type { ContainerSpec } from "../adapters/containers.ts";
import { STANDBY_REPLY_INTERVAL_SECONDS, walReceiverTimeoutMs } from "../primary-lease.ts";

/**
 * How harbor-ha runs PostgreSQL on a node, as pure data: the container, postgresql.conf and
 * pg_hba.conf. The primary and the standbys get the same settings (a standby only adds
 * primary_conninfo and standby.signal), so a promoted standby needs no restart to act as a
 * primary, and a deploy after a failover renders the same files with the roles swapped.
 */

export const POSTGRES_COMPONENT = "postgres";
/** Where the node's data folder is mounted inside the container. */
export const PGDATA = "/var/lib/postgresql/data";
export const SUPERUSER = "postgres";
/** Harbor's database (harbor.yml external_database.harbor.db_name), owned by the superuser. */
export const HARBOR_DATABASE = "registry";

/** One container per node, named after the node, whatever its role: roles move, names don't. */
export function postgresContainerName(node: string): string {
  return `pg-${node}`;
}

export function postgresDataPath(site: SiteConfig, node: NodeConfig): string {
  return nodeDataPath(node, site.postgres.dataDir);
}

/**
 * The server container. Settings live in the data folder's files rather than on the command
 * line: command-line settings would beat ALTER SYSTEM and reloads, which a failover needs.
 * SIGINT is PostgreSQL's fast shutdown (SIGTERM, Docker's default, waits for every client;
 * LAB.md pitfall 11).
 */
export function postgresContainerSpec(site: SiteConfig, node: NodeConfig): ContainerSpec {
  return {
    name: postgresContainerName(node.name),
    image: site.postgres.image,
    component: POSTGRES_COMPONENT,
    cmd: ["postgres", "-D", PGDATA],
    user: SUPERUSER,
    binds: [`${postgresDataPath(site, node)}:${PGDATA}`],
    stopSignal: "SIGINT",
    labels: { "io.harbor-ha.node": node.name },
  };
}

/** The network address of `address/prefix` (host bits cleared), as pg_hba.conf wants it. */
export function ipv4Network(address: string, prefix: number): string {
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (value & mask) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join(".")}/${prefix}`;
}

/** A conninfo value: bare when it is plain, else single-quoted with \ and ' escaped. */
export function conninfoValue(value: string): string {
  return /^[A-Za-z0-9._@:/-]+$/.test(value) ? value : `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export interface StandbySource {
  readonly primary: Pick<NodeConfig, "name" | "address">;
  readonly replicationPassword: string;
}

/** The standby's connection to the primary's own address (not the VIP: it moves with the role). */
export function primaryConninfo(site: SiteConfig, node: string, source: StandbySource): string {
  const parts: [string, string][] = [
    ["host", source.primary.address],
    ["port", String(site.postgres.port)],
    ["user", site.postgres.replication.user],
    ["password", source.replicationPassword],
    ["application_name", node],
  ];
  return parts.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(" ");
}

/**
 * The settings, in file order. listen_addresses is 0.0.0.0, not the node's address: clients come
 * through the VIP, which arrives on the node after PostgreSQL has started (it binds only at
 * start), and pg_hba limits who gets in. IPv4 only, so a port that is taken fails the start
 * instead of leaving a server that listens on :: alone.
 */
export function postgresSettings(
  site: SiteConfig,
  node: Pick<NodeConfig, "name">,
  standby?: StandbySource,
): [name: string, value: string][] {
  const settings: [string, string][] = [
    ["listen_addresses", "0.0.0.0"],
    ["port", String(site.postgres.port)],
    ["cluster_name", node.name],
    ["max_connections", "200"],
    ["password_encryption", "scram-sha-256"],
    ["wal_level", "replica"],
    // pg_rewind needs it to rejoin an old primary (DESIGN §4, S2).
    ["wal_log_hints", "on"],
    ["hot_standby", "on"],
    ["hot_standby_feedback", "on"],
    ["max_wal_senders", "10"],
    ["max_replication_slots", "10"],
    ["wal_keep_size", "1GB"],
    ["synchronous_standby_names", synchronousStandbyNames(site, node)],
    // The replication link is what tells a live primary (jobs/primary-lease.ts): the standby
    // replies every second, and gives up on a silent primary only after that primary has seen
    // the same silence and stopped itself.
    ["wal_receiver_status_interval", `${STANDBY_REPLY_INTERVAL_SECONDS}s`],
    ["wal_receiver_timeout", `${walReceiverTimeoutMs(site.policy.probeIntervalMs)}ms`],
    // The node image leaves out LLVM.
    ["jit", "off"],
    ["log_line_prefix", "%m [%p] %q%u@%d "],
  ];
  if (standby) settings.push(["primary_conninfo", primaryConninfo(site, node.name, standby)]);
  return settings;
}

/** A commit is acknowledged only once a standby has it (postgres.durability synchronous or strict). */
export function commitsWaitForStandby(site: SiteConfig): boolean {
  return site.postgres.durability !== "asynchronous";
}

/**
 * Any one of the other nodes, each by the application_name its primary_conninfo gives it, must
 * confirm a commit. Never "*": pg_basebackup's WAL stream (a re-clone) and pg_receivewal report
 * flush positions too, and a commit confirmed only by a copy that is then thrown away is a lost
 * acknowledged write.
 */
export function synchronousStandbyNames(site: SiteConfig, node: Pick<NodeConfig, "name">): string {
  if (!commitsWaitForStandby(site)) return "";
  const others = site.nodes.filter((other) => other.name !== node.name).map((other) => `"${other.name}"`);
  return others.length > 0 ? `ANY 1 (${others.join(", ")})` : "";
}

/** Settings of ours that only a restart applies (context "postmaster"); the rest take a reload. */
export const RESTART_SETTINGS: ReadonlySet<string> = new Set([
  "listen_addresses",
  "port",
  "cluster_name",
  "max_connections",
  "wal_level",
  "wal_log_hints",
  "hot_standby",
  "max_wal_senders",
  "max_replication_slots",
]);

/** postgresql.conf's lexer reads backslash escapes inside quotes too (a conninfo has some). */
function confValue(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

export function renderPostgresqlConf(
  site: SiteConfig,
  node: Pick<NodeConfig, "name">,
  standby?: StandbySource,
): string {
  const role = standby ? `standby of ${standby.primary.name}` : "primary";
  const lines = postgresSettings(site, node, standby).map(([name, value]) => `${name} = ${confValue(value)}`);
  return [
    `# postgresql.conf of ${node.name} (${role}), written by harbor-ha deploy: edits are overwritten.`,
    ...lines,
    "",
  ].join("\n");
}

/**
 * Site-wide: loopback and the VIP's subnet (every node is on it: config/cross-rules.ts), with
 * scram passwords for clients and for the replication user.
 */
export function renderPgHba(site: SiteConfig): string {
  const networks = ["127.0.0.1/32", ipv4Network(site.vip.address, site.vip.prefix)];
  const replicator = site.postgres.replication.user;
  const row = (...cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd([8, 13, 13, 19, 0][i] ?? 0))
      .join("")
      .trimEnd();
  return [
    "# pg_hba.conf written by harbor-ha deploy: edits are overwritten.",
    row("# TYPE", "DATABASE", "USER", "ADDRESS", "METHOD"),
    // Inside the container only: `docker exec pg-NODE psql` runs as the postgres OS user.
    row("local", "all", SUPERUSER, "", "peer"),
    ...networks.map((net) => row("host", "all", "all", net, "scram-sha-256")),
    ...networks.map((net) => row("host", "replication", replicator, net, "scram-sha-256")),
    "",
  ].join("\n");
}

/** `name = 'value'` lines of a postgresql.conf, for saying which settings a rewrite changes. */
export function parseConfSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = line.match(/^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*('(?:[^'\\]|''|\\.)*'|[^\s#']+)/);
    if (match?.[1] && match[2]) settings.set(match[1], match[2]);
  }
  return settings;
}

/** The names of settings that differ between two postgresql.conf texts (never their values). */
export function changedSettings(before: string, after: string): string[] {
  const old = parseConfSettings(before);
  const next = parseConfSettings(after);
  const names = new Set([...old.keys(), ...next.keys()]);
  return [...names].filter((name) => old.get(name) !== next.get(name)).sort();
}
