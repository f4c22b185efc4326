import { PG_BIN } from "./host-postgres.ts";

/**
 * The runbook's design (seed/runbook-zh.md, DESIGN.md §2) as files, pure: repmgrd promotes the
 * standby with the postgresql-repmgr image's defaults (connect_timeout 5, reconnect_attempts 3,
 * reconnect_interval 5, replication slots), keepalived with equal priorities and nopreempt, and
 * the two crontab scripts that run every 30 s: start-pg.sh (start a dead PostgreSQL) and
 * check_vip.sh (the PostgreSQL primary follows the VIP).
 */

export interface RunbookNode {
  readonly name: string;
  readonly id: number;
  readonly address: string;
  readonly data: string;
  readonly socketDir: string;
  readonly log: string;
  readonly repmgrConf: string;
  readonly repmgrLog: string;
  readonly keepalivedPid: string;
}

export const REPMGR_USER = "repmgr";
export const RUNBOOK_ROUTER_ID = 78;

export function repmgrConf(node: RunbookNode): string {
  return [
    `node_id=${node.id}`,
    `node_name='${node.name}'`,
    `conninfo='host=${node.address} port=5432 user=${REPMGR_USER} dbname=repmgr connect_timeout=5'`,
    `data_directory='${node.data}'`,
    `pg_bindir='${PG_BIN}'`,
    "use_replication_slots=yes",
    "failover=automatic",
    `promote_command='${PG_BIN}/repmgr standby promote -f ${node.repmgrConf} --log-to-file'`,
    `follow_command='${PG_BIN}/repmgr standby follow -f ${node.repmgrConf} --log-to-file --upstream-node-id=%n'`,
    "reconnect_attempts=3",
    "reconnect_interval=5",
    "degraded_monitoring_timeout=5",
    `service_start_command='${PG_BIN}/pg_ctl -D ${node.data} -l ${node.log} -w start'`,
    `service_stop_command='${PG_BIN}/pg_ctl -D ${node.data} -m fast -w stop'`,
    `log_file='${node.repmgrLog}'`,
    "log_level=INFO",
    "",
  ].join("\n");
}

/** Settings appended to postgresql.conf; a standby's clone gets its own name and socket folder. */
export function postgresqlSettings(node: RunbookNode): string {
  return [
    "",
    "# bench: the runbook baseline",
    "listen_addresses = '0.0.0.0'",
    "port = 5432",
    `cluster_name = '${node.name}'`,
    `unix_socket_directories = '${node.socketDir}'`,
    "shared_preload_libraries = 'repmgr'",
    "wal_level = replica",
    "wal_log_hints = on",
    "hot_standby = on",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "wal_keep_size = '1GB'",
    "jit = off",
    "",
  ].join("\n");
}

/** The lab is closed (no route out): trust on its subnet keeps the baseline free of password plumbing. */
export const PG_HBA = [
  "local all all trust",
  "host all all 127.0.0.1/32 trust",
  "host all all 10.77.0.0/24 trust",
  "host replication all 10.77.0.0/24 trust",
  "",
].join("\n");

/** The runbook: equal priority on both nodes and nopreempt (which keepalived allows only from BACKUP). */
export function keepalivedConf(node: RunbookNode, peer: string, vip: string): string {
  return [
    "global_defs {",
    `    router_id ${node.name}`,
    "}",
    "vrrp_instance runbook_vip {",
    "    state BACKUP",
    "    nopreempt",
    "    interface eth0",
    `    virtual_router_id ${RUNBOOK_ROUTER_ID}`,
    "    priority 100",
    "    advert_int 1",
    `    unicast_src_ip ${node.address}`,
    "    unicast_peer {",
    `        ${peer}`,
    "    }",
    "    virtual_ipaddress {",
    `        ${vip}/24 dev eth0`,
    "    }",
    "}",
    "",
  ].join("\n");
}

const psql = (node: RunbookNode) => `${PG_BIN}/psql -h ${node.socketDir} -U postgres -d postgres -tAc`;

/** start-pg.sh: a PostgreSQL that is not running is started (the runbook's crontab names the standby). */
export function startPgScript(node: RunbookNode): string {
  return [
    "#!/bin/sh",
    // Run from root's crontab: pg_ctl refuses root.
    `if ! runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${node.data} status >/dev/null 2>&1; then`,
    `  runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${node.data} -l ${node.log} start`,
    "fi",
    "",
  ].join("\n");
}

/**
 * check_vip.sh: the PostgreSQL primary follows the VIP. A node without the VIP stops a primary it
 * runs (repmgrd then promotes the standby that has the VIP: scenario 4); a node with the VIP whose
 * PostgreSQL is not a primary stops its keepalived, so the VIP moves to the new primary
 * (scenario 1). It runs as root (crontab); PostgreSQL is stopped as its own user.
 *
 * Each finding is looked at again before acting: 3 s for giving the VIP away, 10 s for stopping
 * a primary (longer than the other node's 3 s plus a VRRP handover). Both nodes' crontabs fire in
 * the same second, and start-pg.sh with check_vip.sh on one node: without the second look, node02
 * saw the VIP still in flight from node01 and stopped the primary repmgrd had just promoted, or
 * saw its PostgreSQL still starting and gave the VIP away, leaving no writable primary at all
 * (measured: every such run timed out). A careful operator's script waits out a move under way.
 */
export function checkVipScript(node: RunbookNode, vip: string): string {
  return [
    "#!/bin/sh",
    "role() {",
    `  runuser -u postgres -- ${psql(node)} "select case when pg_is_in_recovery() then 'standby' else 'primary' end" 2>/dev/null`,
    "}",
    `has_vip() { ip -o -4 addr show dev eth0 | grep -q " ${vip}/"; }`,
    'if has_vip && [ "$(role)" != primary ]; then',
    `  sleep 3; if has_vip && [ "$(role)" != primary ] && [ -f ${node.keepalivedPid} ]; then kill "$(cat ${node.keepalivedPid})"; fi`,
    'elif ! has_vip && [ "$(role)" = primary ]; then',
    `  sleep 10; if ! has_vip && [ "$(role)" = primary ]; then runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${node.data} -m fast stop; fi`,
    "fi",
    "",
  ].join("\n");
}
