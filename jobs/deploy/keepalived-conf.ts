import { join } from "node:path";
import { keepalivedTakeoverMs } from "../../config/cross-rules.ts";
import type { NodeConfig, SiteConfig } from "../../config/schema.ts";

/**
 * keepalived's configuration for one node, rendered from the site (pure: no I/O).
 *
 * The VIP follows the PostgreSQL role (DESIGN.md §4): every node starts as BACKUP with the same
 * base priority, and a track_file adds PG_ROLE_WEIGHT on the node that runs the primary. With
 * preemption on (keepalived's default), the highest priority always wins the election, so the
 * primary's node takes the VIP and a standby's node gives it up. The runbook's `nopreempt` with
 * equal priorities leaves the winner to an address tie-break after a partition heals (keepalived
 * issues #1884, #1528): here it must stay off.
 */

/** The one VRRP instance: probes and the notify file name it. */
export const VRRP_INSTANCE = "harbor_vip";
/** The name of the track_file block that carries the PostgreSQL role. */
export const PG_ROLE_TRACK = "pg_role";
export const BASE_PRIORITY = 100;
/**
 * Multiplies the number in the role file. Any positive weight makes the primary's node win; 50
 * leaves room below (a negative value could lower a node further) and stays far from the
 * [1, 254] limits keepalived clamps the effective priority to.
 */
export const PG_ROLE_WEIGHT = 50;
/** What the role file holds (keepalived multiplies it by PG_ROLE_WEIGHT). */
export const PG_ROLE_VALUE = { primary: 1, standby: 0 } as const;
export type PgRole = keyof typeof PG_ROLE_VALUE;

/** Seconds between periodic gratuitous ARPs while MASTER: refreshes stale neighbour caches. */
export const GARP_MASTER_REFRESH_SECONDS = 10;

export const KEEPALIVED_COMPONENT = "keepalived";

/**
 * How long a VIP may be on no node during a handover: keepalived's takeover time (3 adverts,
 * config/cross-rules.ts) plus the skew, under one advert (RFC 5798 6.1).
 */
export function vrrpTakeoverMs(advertIntSeconds: number): number {
  return keepalivedTakeoverMs(advertIntSeconds) + advertIntSeconds * 1000;
}

export function keepalivedContainerName(node: string): string {
  return `keepalived-${node}`;
}

/** The files of the keepalived step, all in one folder on the node's own disk. */
export interface KeepalivedLayout {
  readonly dir: string;
  readonly conf: string;
  /** A candidate config, checked with `keepalived -t` before it replaces `conf`. */
  readonly candidateConf: string;
  readonly notifyScript: string;
  /** The track_file: the PostgreSQL role as a number (PG_ROLE_VALUE). */
  readonly roleFile: string;
  /** The last VRRP state change, one line (see keepalived-notify.ts). */
  readonly stateFile: string;
  /** Every state change, one line each, newest last. */
  readonly transitionsLog: string;
}

export function keepalivedLayout(dir: string): KeepalivedLayout {
  return {
    dir,
    conf: join(dir, "keepalived.conf"),
    candidateConf: join(dir, "keepalived.conf.new"),
    notifyScript: join(dir, "notify.sh"),
    roleFile: join(dir, "pg-role.weight"),
    stateFile: join(dir, "state"),
    transitionsLog: join(dir, "transitions.log"),
  };
}

export function roleOf(node: string, primaryNode: string): PgRole {
  return node === primaryNode ? "primary" : "standby";
}

/** The VRRP priority a node advertises while its role file holds the value for `role`. */
export function effectivePriority(role: PgRole): number {
  return BASE_PRIORITY + PG_ROLE_VALUE[role] * PG_ROLE_WEIGHT;
}

/** The role file's content for a role: a number and a newline. */
export function roleFileContent(role: PgRole): string {
  return `${PG_ROLE_VALUE[role]}\n`;
}

/** The role a role file's text stands for, or undefined for anything else (missing, garbled). */
export function parseRoleFile(text: string | undefined): PgRole | undefined {
  const value = text?.trim();
  if (value === String(PG_ROLE_VALUE.primary)) return "primary";
  if (value === String(PG_ROLE_VALUE.standby)) return "standby";
  return undefined;
}

/** Thrown for a site keepalived cannot be configured for (the caller turns it into a failure). */
export class KeepalivedConfigError extends Error {
  override readonly name = "KeepalivedConfigError";
}

/**
 * keepalived's parser splits on blanks and treats quotes specially, and the notify script quotes
 * paths for the shell: a path must have neither.
 */
export function plainPath(path: string): string {
  if (!/^\/[A-Za-z0-9._/+@:-]*$/.test(path)) {
    throw new KeepalivedConfigError(
      `path ${JSON.stringify(path)} cannot be used in keepalived.conf (blanks, quotes or unusual characters)`,
    );
  }
  return path;
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : String(Number(seconds.toFixed(3)));
}

export function renderKeepalivedConf(site: SiteConfig, node: NodeConfig, layout: KeepalivedLayout): string {
  const peers = site.nodes.filter((other) => other.name !== node.name);
  if (peers.length === site.nodes.length) {
    throw new KeepalivedConfigError(`node ${node.name} is not in site ${site.site}`);
  }
  const { vip, keepalived } = site;
  const lines = [
    `# keepalived for node ${node.name} of site ${site.site}, written by harbor-ha's keepalived deploy`,
    "# step: edits are overwritten. VRRP only (run with -P): IPVS is not used.",
    "global_defs {",
    `    router_id ${node.name}`,
    "    # The notify script is harbor-ha's own, root-owned, in a root-owned folder.",
    "    script_user root",
    "    enable_script_security",
    "}",
    "",
    "# The PostgreSQL role of this node: the agent writes 1 on the primary's node, 0 elsewhere",
    "# (atomically, by rename; keepalived rereads it through inotify, without a restart).",
    `track_file ${PG_ROLE_TRACK} {`,
    `    file "${plainPath(layout.roleFile)}"`,
    `    weight ${PG_ROLE_WEIGHT}`,
    "    # A missing file counts as a standby's.",
    `    init_file ${PG_ROLE_VALUE.standby}`,
    "}",
    "",
    `vrrp_instance ${VRRP_INSTANCE} {`,
    "    # BACKUP everywhere and equal base priorities: only the role weight decides. No nopreempt:",
    "    # the primary's node must take the VIP back from a standby's node (DESIGN.md §4).",
    "    state BACKUP",
    `    interface ${vip.interface}`,
    `    virtual_router_id ${keepalived.virtualRouterId}`,
    `    priority ${BASE_PRIORITY}`,
    `    advert_int ${formatSeconds(keepalived.advertInt)}`,
    `    unicast_src_ip ${node.address}`,
    "    unicast_peer {",
    ...peers.map((peer) => `        ${peer.address}`),
    "    }",
    "    # Adverts from anyone but the peers above are dropped.",
    "    check_unicast_src",
    "    track_file {",
    `        ${PG_ROLE_TRACK}`,
    "    }",
    "    virtual_ipaddress {",
    `        ${vip.address}/${vip.prefix} dev ${vip.interface}`,
    "    }",
    "    # Gratuitous ARPs: a second burst 1 s after becoming MASTER, and a refresh while MASTER, so",
    "    # clients forget a holder that crashed with the VIP still configured (LAB.md pitfall 6).",
    "    garp_master_delay 1",
    `    garp_master_refresh ${GARP_MASTER_REFRESH_SECONDS}`,
    "    # Two MASTERs after a partition: the loser speaks once more so the winner re-sends its GARPs.",
    "    higher_prio_send_advert",
    `    notify ${plainPath(layout.notifyScript)}`,
    "}",
    "",
  ];
  return lines.join("\n");
}
