import { postgresContainerName } from "./postgres-config.ts";

/**
 * The runbook's four replication checks (DESIGN §2, step 1.5), judged. Pure: what a node's server
 * reported in, one output line per check and the failures (with a hint each) out.
 *   primary: pg_stat_replication lists every standby as streaming; pg_controldata "in
 *            production"; pg_is_in_recovery() f
 *   standby: pg_stat_wal_receiver streaming from the primary's address; pg_controldata "in
 *            archive recovery"; pg_is_in_recovery() t
 */

export interface WalSender {
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string;
  readonly syncState: string;
}

export interface WalReceiver {
  readonly status: string;
  readonly senderHost: string | null;
}

export interface ReplicationObservation {
  readonly inRecovery: boolean;
  /** pg_controldata's "Database cluster state". */
  readonly clusterState: string;
  readonly senders: readonly WalSender[];
  readonly receiver: WalReceiver | null;
}

export interface Peer {
  readonly name: string;
  readonly address: string;
}

export interface ReplicationExpectation {
  readonly node: string;
  readonly role: "primary" | "standby";
  readonly primary: Peer;
  /** Every node but the primary. */
  readonly standbys: readonly Peer[];
  readonly synchronous: boolean;
}

export type ReplicationCheck =
  | "pg_stat_replication"
  | "pg_stat_wal_receiver"
  | "pg_controldata"
  | "pg_is_in_recovery";

export interface CheckFailure {
  readonly check: ReplicationCheck;
  readonly message: string;
  readonly hint: string;
  /** A standby that is still connecting may pass in a moment; a wrong role will not. */
  readonly transient: boolean;
}

export interface ReplicationVerdict {
  readonly ok: boolean;
  readonly lines: readonly string[];
  /** The lasting failures first: they say more than a standby that has not connected. */
  readonly failures: readonly CheckFailure[];
  /** Worth waiting a few seconds and looking again. */
  readonly transient: boolean;
}

/** The SQL behind the checks that SQL answers, as one JSON object. */
export const REPLICATION_QUERY = `select json_build_object(
  'inRecovery', pg_is_in_recovery(),
  'senders', coalesce((select json_agg(json_build_object('applicationName', application_name,
      'clientAddr', host(client_addr), 'state', state, 'syncState', sync_state) order by application_name)
    from pg_stat_replication), '[]'::json),
  'receiver', (select json_build_object('status', status, 'senderHost', sender_host) from pg_stat_wal_receiver limit 1))`;

export function judgeReplication(
  expected: ReplicationExpectation,
  observed: ReplicationObservation,
): ReplicationVerdict {
  const lines: string[] = [];
  const failures: CheckFailure[] = [];
  const fail = (check: ReplicationCheck, message: string, hint: string) =>
    failures.push({
      check,
      message,
      hint,
      transient: check === "pg_stat_replication" || check === "pg_stat_wal_receiver",
    });
  const container = postgresContainerName(expected.node);

  if (expected.role === "primary") {
    let synchronousSeen = false;
    for (const standby of expected.standbys) {
      const sender =
        observed.senders.find((s) => s.applicationName === standby.name) ??
        observed.senders.find((s) => s.clientAddr === standby.address);
      if (!sender) {
        lines.push(`pg_stat_replication: ${standby.name} missing`);
        fail(
          "pg_stat_replication",
          `${standby.name} is not connected to the primary on ${expected.node}`,
          `run postgres.standby on ${standby.name}; its log: docker logs ${postgresContainerName(standby.name)}`,
        );
        continue;
      }
      lines.push(`pg_stat_replication: ${standby.name} ${sender.state} (sync_state ${sender.syncState})`);
      if (sender.syncState === "sync" || sender.syncState === "quorum") synchronousSeen = true;
      if (sender.state !== "streaming") {
        fail(
          "pg_stat_replication",
          `${standby.name} is ${sender.state}, not streaming`,
          `a standby that stays in ${sender.state} cannot follow the primary: read docker logs ${postgresContainerName(standby.name)}`,
        );
      }
    }
    if (expected.synchronous && expected.standbys.length > 0 && !synchronousSeen) {
      fail(
        "pg_stat_replication",
        "no standby is synchronous although postgres.durability waits for one",
        `check synchronous_standby_names on ${expected.node} (SHOW synchronous_standby_names in ${container}); the controller turns it back to synchronous once a standby streams`,
      );
    }
  } else {
    const receiver = observed.receiver;
    const from = receiver?.senderHost ?? "?";
    lines.push(
      receiver
        ? `pg_stat_wal_receiver: ${receiver.status} from ${from}`
        : "pg_stat_wal_receiver: no WAL receiver",
    );
    if (receiver?.status !== "streaming") {
      fail(
        "pg_stat_wal_receiver",
        `${expected.node} is not streaming from ${expected.primary.name}`,
        `read docker logs ${container}: a wrong password, pg_hba or a diverged timeline keep it from ` +
          `streaming (a diverged one needs harbor-ha rejoin ${expected.node})`,
      );
    } else if (receiver.senderHost !== expected.primary.address) {
      fail(
        "pg_stat_wal_receiver",
        `${expected.node} streams from ${from}, not from ${expected.primary.name} (${expected.primary.address})`,
        `re-run postgres.standby on ${expected.node}: it rewrites primary_conninfo`,
      );
    }
  }

  const wantState = expected.role === "primary" ? "in production" : "in archive recovery";
  lines.push(`pg_controldata: ${observed.clusterState}`);
  if (observed.clusterState !== wantState) {
    fail(
      "pg_controldata",
      `${expected.node}'s cluster state is "${observed.clusterState}", expected "${wantState}"`,
      `the ${expected.role} step on ${expected.node} has not run or its server is not up: read docker logs ${container}`,
    );
  }

  lines.push(`pg_is_in_recovery: ${observed.inRecovery ? "t" : "f"}`);
  const wantRecovery = expected.role === "standby";
  if (observed.inRecovery !== wantRecovery) {
    fail(
      "pg_is_in_recovery",
      `${expected.node} is ${observed.inRecovery ? "a standby" : "a primary"} but should be the ${expected.role}`,
      expected.role === "primary"
        ? `the primary is elsewhere now: re-run the deploy (the plan keeps the current primary)`
        : `two primaries (split brain): fence ${expected.node} and rejoin it (harbor-ha rejoin ${expected.node})`,
    );
  }
  // A wrong role explains the rest: it goes first, then the state, then whatever may still settle.
  const rank: Record<ReplicationCheck, number> = {
    pg_is_in_recovery: 0,
    pg_controldata: 1,
    pg_stat_replication: 2,
    pg_stat_wal_receiver: 2,
  };
  const ordered = [...failures].sort((a, b) => rank[a.check] - rank[b.check]);
  return {
    ok: failures.length === 0,
    lines,
    failures: ordered,
    transient: failures.length > 0 && failures.every((f) => f.transient),
  };
}
