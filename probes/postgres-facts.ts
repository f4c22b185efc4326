import type { ManagedContainer, PostgresFacts, PostgresRole, ReplicationConnection } from "./observation.ts";

/**
 * PostgreSQL's state as one query's row, and that row as PostgresFacts (pure: no I/O).
 *
 * One statement, one round trip, every 500 ms: what only a primary can answer
 * (pg_current_wal_lsn) sits behind a CASE, so the same text runs on a standby without an error.
 * LSNs come back as text and lags are computed here, so the arithmetic is unit-tested.
 */
export const POSTGRES_STATUS_SQL = `select
  pg_is_in_recovery() as in_recovery,
  current_setting('synchronous_standby_names') as synchronous_standby_names,
  case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as current_lsn,
  case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end as current_walfile,
  pg_last_wal_receive_lsn()::text as received_lsn,
  pg_last_wal_replay_lsn()::text as replayed_lsn,
  extract(epoch from (now() - pg_last_xact_replay_timestamp()))::float8 as replay_age_seconds,
  (select timeline_id from pg_control_checkpoint()) as checkpoint_timeline,
  (select json_build_object('status', status, 'sender_host', sender_host, 'received_tli', received_tli)
     from pg_stat_wal_receiver limit 1) as wal_receiver,
  (select coalesce(json_agg(json_build_object(
      'application_name', application_name, 'client_addr', host(client_addr), 'state', state,
      'sync_state', sync_state, 'replay_lsn', replay_lsn::text,
      'reply_age_seconds', extract(epoch from (now() - reply_time))::float8) order by application_name), '[]'::json)
     from pg_stat_replication) as replication`;

/** An LSN ("16/B374D848": two 32-bit halves in hex) as a byte position, or undefined if it is not one. */
export function parseLsn(text: string | null | undefined): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text ?? "");
  if (!match?.[1] || !match[2]) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

/**
 * How many bytes `behind` trails `ahead`; null when either is unknown. Never negative: a
 * standby's replay can pass what its receiver reports after a restart (WAL read from its own
 * pg_wal), which is no lag at all.
 */
export function lsnDistance(
  ahead: string | null | undefined,
  behind: string | null | undefined,
): number | null {
  const a = parseLsn(ahead);
  const b = parseLsn(behind);
  if (a === undefined || b === undefined) return null;
  return a > b ? Number(a - b) : 0;
}

/**
 * Seconds of replay lag. now() - pg_last_xact_replay_timestamp() alone grows without end on a
 * standby of an idle primary (no new transaction to replay), so a standby that has replayed all
 * it received counts as 0 s behind.
 */
export function replayLagSeconds(
  receivedLsn: string | null,
  replayedLsn: string | null,
  replayAgeSeconds: number | null,
): number | null {
  if (receivedLsn !== null && receivedLsn === replayedLsn) return 0;
  if (replayAgeSeconds === null) return null;
  return Math.max(0, replayAgeSeconds);
}

/** The timeline in a WAL file name: its first 8 hex digits ("000000020000000000000003" is 2). */
export function timelineOfWalFile(name: string | null): number | null {
  if (!name || !/^[0-9A-F]{24}$/i.test(name)) return null;
  return Number.parseInt(name.slice(0, 8), 16);
}

function text(row: Readonly<Record<string, unknown>>, key: string): string | null {
  const value = row[key];
  return typeof value === "string" ? value : null;
}

function numeric(row: Readonly<Record<string, unknown>>, key: string): number | null {
  const value = row[key];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

function replicationOf(value: unknown, currentLsn: string | null): ReplicationConnection[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry: Readonly<Record<string, unknown>>) => ({
    applicationName: text(entry, "application_name") ?? "",
    clientAddr: text(entry, "client_addr"),
    state: text(entry, "state") ?? "unknown",
    syncState: text(entry, "sync_state") ?? "unknown",
    replayLagBytes: lsnDistance(currentLsn, text(entry, "replay_lsn")),
    replyAgeSeconds: numeric(entry, "reply_age_seconds"),
  }));
}

/** The status query's row (POSTGRES_STATUS_SQL) as facts; garbled fields read as unknown (null). */
export function postgresFactsFromStatus(row: Readonly<Record<string, unknown>>): PostgresFacts {
  const inRecovery = row.in_recovery === true;
  const receiver =
    typeof row.wal_receiver === "object" && row.wal_receiver !== null
      ? (row.wal_receiver as Readonly<Record<string, unknown>>)
      : null;
  if (!inRecovery) {
    const currentLsn = text(row, "current_lsn");
    return {
      role: "primary",
      detail: "accepting writes",
      // The checkpoint's timeline lags a promotion until the next checkpoint (LAB.md pitfall 8);
      // the current WAL file's name is the timeline being written now.
      timeline: timelineOfWalFile(text(row, "current_walfile")) ?? numeric(row, "checkpoint_timeline"),
      currentLsn,
      receivedLsn: null,
      replayedLsn: null,
      replayLagBytes: null,
      replayLagSeconds: null,
      walReceiver: null,
      replication: replicationOf(row.replication, currentLsn),
      synchronousStandbyNames: text(row, "synchronous_standby_names"),
    };
  }
  const receivedLsn = text(row, "received_lsn");
  const replayedLsn = text(row, "replayed_lsn");
  const walReceiver = receiver
    ? { status: text(receiver, "status") ?? "unknown", senderHost: text(receiver, "sender_host") }
    : null;
  return {
    role: "standby",
    detail: walReceiver ? `in recovery, WAL receiver ${walReceiver.status}` : "in recovery, no WAL receiver",
    timeline: (receiver ? numeric(receiver, "received_tli") : null) ?? numeric(row, "checkpoint_timeline"),
    currentLsn: null,
    receivedLsn,
    replayedLsn,
    replayLagBytes: lsnDistance(receivedLsn, replayedLsn),
    replayLagSeconds: replayLagSeconds(receivedLsn, replayedLsn, numeric(row, "replay_age_seconds")),
    walReceiver,
    replication: replicationOf(row.replication, null),
    // A standby's setting waits for nobody until it is promoted.
    synchronousStandbyNames: null,
  };
}

/** Facts for a server that could not be asked: only the role and why. */
export function roleOnlyFacts(role: PostgresRole, detail: string): PostgresFacts {
  return {
    role,
    detail,
    timeline: null,
    currentLsn: null,
    receivedLsn: null,
    replayedLsn: null,
    replayLagBytes: null,
    replayLagSeconds: null,
    walReceiver: null,
    replication: [],
    synchronousStandbyNames: null,
  };
}

/**
 * The role of a server that does not answer, told by its managed containers: none is "absent",
 * none running is "stopped" (a crash or a fence), a running one that does not answer is
 * "unknown" (starting, wedged, or refusing us).
 */
export function roleFromContainers(containers: readonly ManagedContainer[], reason: string): PostgresFacts {
  if (containers.length === 0) return roleOnlyFacts("absent", `no postgres container (${reason})`);
  const running = containers.find((container) => container.state === "running");
  if (running) return roleOnlyFacts("unknown", `${running.name} is running but does not answer: ${reason}`);
  const [first] = containers;
  return roleOnlyFacts("stopped", `${first?.name} ${first?.state}: ${first?.status}`);
}
