/**
 * What an agent sees on its node, as typed data: one reading per probe, gathered into one
 * observation that the agent publishes and the controller keeps in its cluster snapshot.
 * Every probe reading is either ok with its facts or failed with the reason; both carry how long
 * the probe took. A probe never throws to its caller and never changes anything.
 */

export type ProbeReading<T> =
  | ({ readonly ok: true; readonly durationMs: number } & T)
  | { readonly ok: false; readonly error: string; readonly durationMs: number };

export type PostgresRole = "primary" | "standby" | "stopped" | "absent" | "unknown";

/** A standby as the primary's pg_stat_replication lists it. */
export interface ReplicationConnection {
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string;
  readonly syncState: string;
  readonly replayLagBytes: number | null;
  /**
   * Seconds since the standby's last reply (pg_stat_replication.reply_time); null before its
   * first. A standby replies every wal_receiver_status_interval, so a fresh reply is a live link.
   */
  readonly replyAgeSeconds: number | null;
}

export interface PostgresFacts {
  readonly role: PostgresRole;
  /** Why the role is what it is, in a few words ("accepting writes", "container exited (137)"). */
  readonly detail: string;
  readonly timeline: number | null;
  /** pg_current_wal_lsn() on a primary. */
  readonly currentLsn: string | null;
  /** pg_last_wal_receive_lsn() on a standby. */
  readonly receivedLsn: string | null;
  /** pg_last_wal_replay_lsn() on a standby. */
  readonly replayedLsn: string | null;
  /** received minus replayed, on a standby. */
  readonly replayLagBytes: number | null;
  /** now() - pg_last_xact_replay_timestamp() on a standby; null when nothing was replayed yet. */
  readonly replayLagSeconds: number | null;
  /** On a standby: the WAL receiver's status and the host it streams from. */
  readonly walReceiver: { readonly status: string; readonly senderHost: string | null } | null;
  /** On a primary: its standbys. */
  readonly replication: readonly ReplicationConnection[];
  /**
   * On a primary: synchronous_standby_names as in effect now ("" commits alone, 'ANY 1 ("node02")'
   * waits for node02); null on a standby or when unknown.
   */
  readonly synchronousStandbyNames: string | null;
}

export interface VipFacts {
  readonly address: string;
  readonly interface: string;
  readonly holds: boolean;
}

export type VrrpStateName = "MASTER" | "BACKUP" | "FAULT" | "STOP" | "DELETED";

export interface KeepalivedFacts {
  /** The managed keepalived container (or process) is running. */
  readonly running: boolean;
  /** The last state keepalived's notify script recorded, with when and at which priority. */
  readonly state: VrrpStateName | null;
  readonly since: string | null;
  readonly priority: number | null;
}

export interface HarborComponent {
  readonly name: string;
  readonly status: string;
  readonly error?: string;
}

export interface HarborFacts {
  readonly healthy: boolean;
  readonly components: readonly HarborComponent[];
}

export interface RedisFacts {
  readonly role: "master" | "slave" | "sentinel" | "unknown";
}

export interface StorageFacts {
  readonly path: string;
  /** Write, read back and delete of a canary file, in ms. */
  readonly latencyMs: number;
}

export interface ManagedContainer {
  readonly name: string;
  /** The io.harbor-ha.component label: postgres, keepalived, harbor-core, ... */
  readonly component: string;
  /** Docker's state: running, exited, created, restarting, dead, paused. */
  readonly state: string;
  /** Docker's status text: "Up 3 minutes", "Exited (137) 2 seconds ago". */
  readonly status: string;
}

export interface DockerFacts {
  readonly version: string;
  readonly containers: readonly ManagedContainer[];
}

/** Why the agent took this observation. */
export type ObservationTrigger = "interval" | "docker-event" | "start";

export interface NodeObservation {
  readonly site: string;
  readonly node: string;
  /** Increases by one per observation of this agent process; restarts at 1 with the agent. */
  readonly seq: number;
  readonly agentPid: number;
  /** Epoch ms on the node's clock when the probes started. */
  readonly observedAt: number;
  readonly trigger: ObservationTrigger;
  /** For a docker-event observation: "postgres-node01 die" and the like. */
  readonly triggerDetail?: string;
  readonly postgres: ProbeReading<PostgresFacts>;
  readonly vip: ProbeReading<VipFacts>;
  readonly keepalived: ProbeReading<KeepalivedFacts>;
  readonly harbor: ProbeReading<HarborFacts>;
  readonly redis: ProbeReading<RedisFacts>;
  readonly storage: ProbeReading<StorageFacts>;
  readonly docker: ProbeReading<DockerFacts>;
}

/** Where observations live in the control-plane Redis (see probes' publisher and the snapshot). */
export function observationKey(site: string, node: string): string {
  return `harbor-ha:${site}:observation:${node}`;
}

export function observationChannel(site: string): string {
  return `harbor-ha:${site}:observations`;
}
