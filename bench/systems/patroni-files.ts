import { stringify } from "yaml";
import { PG_BIN } from "./host-postgres.ts";

/**
 * Patroni as Debian ships it (3.0), with etcd and Patroni's defaults (ttl 30, loop_wait 10,
 * retry_timeout 10: none is set here), managing the host's PostgreSQL 15 in a node's namespace.
 * The VIP is Patroni's to move: a callback adds it on the primary and removes it elsewhere. Pure.
 */

export const PATRONI_SCOPE = "bench";
export const PATRONI_PASSWORD = "bench";

export interface PatroniNode {
  readonly name: string;
  readonly address: string;
  readonly data: string;
  readonly socketDir: string;
  readonly pgpass: string;
  readonly callback: string;
  readonly log: string;
}

export function patroniConfig(node: PatroniNode, etcdHost: string): string {
  return stringify({
    scope: PATRONI_SCOPE,
    name: node.name,
    log: { level: "INFO" },
    restapi: { listen: `${node.address}:8008`, connect_address: `${node.address}:8008` },
    etcd3: { host: etcdHost },
    bootstrap: {
      dcs: {
        postgresql: {
          use_pg_rewind: true,
          parameters: {
            wal_level: "replica",
            hot_standby: "on",
            wal_log_hints: "on",
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: "1GB",
            jit: "off",
          },
        },
      },
      initdb: [{ encoding: "UTF8" }, "data-checksums"],
      // The lab is closed (no route out): trust on its subnet, as in the runbook baseline.
      pg_hba: [
        "local all all trust",
        "host all all 127.0.0.1/32 trust",
        "host all all 10.77.0.0/24 trust",
        "host replication all 10.77.0.0/24 trust",
      ],
    },
    postgresql: {
      listen: "0.0.0.0:5432",
      connect_address: `${node.address}:5432`,
      data_dir: node.data,
      bin_dir: PG_BIN,
      pgpass: node.pgpass,
      // Only how fast the replica is first cloned (a spread checkpoint waits minutes): no failover timing.
      basebackup: [{ checkpoint: "fast" }],
      authentication: {
        superuser: { username: "postgres", password: PATRONI_PASSWORD },
        replication: { username: "replicator", password: PATRONI_PASSWORD },
      },
      // The nodes share one filesystem: each server keeps its own socket folder.
      parameters: { unix_socket_directories: node.socketDir },
      callbacks: { on_start: node.callback, on_stop: node.callback, on_role_change: node.callback },
    },
    tags: {},
  });
}

/**
 * Patroni's callback: `script action role scope`. The primary (3.0 says "master") takes the VIP
 * and announces it with gratuitous ARP, as keepalived would; any other role gives it up.
 */
export function vipCallback(vip: string): string {
  return [
    "#!/bin/sh",
    'case "$1:$2" in',
    `  on_stop:*) ip addr del ${vip}/24 dev eth0 2>/dev/null ;;`,
    "  *:master|*:primary)",
    `    ip addr add ${vip}/24 dev eth0 2>/dev/null`,
    `    arping -q -U -c 2 -I eth0 ${vip} >/dev/null 2>&1 & ;;`,
    `  *) ip addr del ${vip}/24 dev eth0 2>/dev/null ;;`,
    "esac",
    "exit 0",
    "",
  ].join("\n");
}
