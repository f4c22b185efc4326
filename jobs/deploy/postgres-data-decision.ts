import { type ControlData, isRecoveryState } from "./postgres-controldata.ts";

/**
 * What the primary and standby steps may do with a node's data folder. Pure, because this is
 * where data can be lost: a folder is only ever initialised when empty, and only ever wiped when
 * it holds nothing but a copy (a standby of another cluster, or an interrupted clone).
 */

export interface DataFolderState {
  readonly path: string;
  readonly exists: boolean;
  readonly entries: number;
  /** PG_VERSION and global/pg_control: a complete cluster. */
  readonly hasCluster: boolean;
  readonly hasVersionFile: boolean;
  readonly standbySignal: boolean;
  /** A base backup that never started: pg_basebackup writes it, the first start removes it. */
  readonly backupLabel: boolean;
}

/** What a running server answered, when it runs. */
export interface LiveServer {
  readonly inRecovery: boolean;
  readonly systemIdentifier: string;
}

export interface Refusal {
  readonly kind: "refuse";
  readonly reason: string;
  readonly hint: string;
}

export type PrimaryDecision = { readonly kind: "initdb" | "use"; readonly reason: string } | Refusal;

const NOT_A_PROMOTION =
  "postgres.primary never promotes a standby: if the primary runs on another node, re-run the deploy " +
  "(the plan keeps the primary where it runs); to move it here use harbor-ha switchover";

function isEmpty(folder: DataFolderState): boolean {
  return !folder.exists || folder.entries === 0;
}

export function decidePrimary(node: string, folder: DataFolderState, live?: LiveServer): PrimaryDecision {
  if (live?.inRecovery) {
    return {
      kind: "refuse",
      reason: `${node}'s PostgreSQL runs as a standby (in recovery)`,
      hint: NOT_A_PROMOTION,
    };
  }
  if (!live && folder.standbySignal) {
    return {
      kind: "refuse",
      reason: `${folder.path} holds a standby (standby.signal), not a primary`,
      hint: NOT_A_PROMOTION,
    };
  }
  if (isEmpty(folder)) return { kind: "initdb", reason: `${folder.path} is empty` };
  if (!folder.hasCluster) {
    return {
      kind: "refuse",
      reason: `${folder.path} is not empty and holds no complete PostgreSQL cluster`,
      hint: "harbor-ha deletes nothing it did not make: move the folder's contents aside, then re-run the deploy",
    };
  }
  if (!live && folder.backupLabel) {
    return {
      kind: "refuse",
      reason: `${folder.path} holds a base backup that was never started (backup_label)`,
      hint: "it is a copy of another server, not this site's primary: move it aside, or deploy it as a standby",
    };
  }
  return { kind: "use", reason: live ? "the primary runs" : `${folder.path} holds a cluster` };
}

/** reason: what the folder holds, as in "empty /path: <reason>". */
export type StandbyDecision =
  | { readonly kind: "clone" | "wipe-and-clone" | "keep"; readonly reason: string }
  | Refusal;

export interface StandbyInputs {
  readonly node: string;
  readonly primaryNode: string;
  readonly folder: DataFolderState;
  readonly live?: LiveServer;
  /** pg_controldata of the folder, when the server is not running. */
  readonly control?: ControlData;
  /** The primary's system identifier; undefined when it could not be asked. */
  readonly primarySystemIdentifier?: string;
}

/**
 * When a cluster was made (seconds since the epoch): initdb puts its time in the high 32 bits of
 * the system identifier. Undefined when the identifier is not a number.
 */
export function clusterCreatedAt(systemIdentifier: string): number | undefined {
  if (!/^\d{1,20}$/.test(systemIdentifier)) return undefined;
  return Number(BigInt(systemIdentifier) >> 32n);
}

export function decideStandby(inputs: StandbyInputs): StandbyDecision {
  const { node, primaryNode, folder, live, control } = inputs;
  if (live && !live.inRecovery) {
    return {
      kind: "refuse",
      reason: `${node}'s PostgreSQL runs as a primary (not in recovery); its data folder is never wiped`,
      hint:
        `re-cloning it from ${primaryNode} would discard its writes. If ${primaryNode} is the primary, ` +
        `${node} is a second primary: fence it and rejoin it (harbor-ha rejoin ${node}); if ${node} is the ` +
        "primary now, re-run the deploy so the plan keeps it",
    };
  }
  if (isEmpty(folder)) return { kind: "clone", reason: "it is empty" };
  if (!folder.hasCluster) {
    if (folder.backupLabel && folder.hasVersionFile) {
      // pg_basebackup sends global/pg_control last: this is a clone that was cut short.
      return {
        kind: "wipe-and-clone",
        reason: "it holds an interrupted clone (backup_label, no global/pg_control)",
      };
    }
    return {
      kind: "refuse",
      reason: `${folder.path} is not empty and holds no complete PostgreSQL cluster`,
      hint: "harbor-ha deletes nothing it did not make: move the folder's contents aside, then re-run the deploy",
    };
  }
  const systemIdentifier = live?.systemIdentifier ?? control?.systemIdentifier;
  const standbyLike =
    live?.inRecovery === true ||
    folder.standbySignal ||
    folder.backupLabel ||
    (control !== undefined && isRecoveryState(control.clusterState));
  if (!standbyLike) {
    const state = control ? ` (state: ${control.clusterState})` : "";
    return {
      kind: "refuse",
      reason: `${folder.path} holds a cluster that is not a standby${state}; its data folder is never wiped`,
      hint:
        `it may hold writes that ${primaryNode} lacks (an old primary?): rejoin it with pg_rewind ` +
        `(harbor-ha rejoin ${node}), or after checking move the folder aside and re-run to clone it afresh`,
    };
  }
  const primaryId = inputs.primarySystemIdentifier;
  if (primaryId !== undefined && systemIdentifier !== undefined && systemIdentifier !== primaryId) {
    const standbyBorn = clusterCreatedAt(systemIdentifier);
    const primaryBorn = clusterCreatedAt(primaryId);
    // A primary younger than the standby's cluster was made after that data existed, e.g. by a
    // deploy that ran initdb on an empty node while this standby held the site's data (issue 15):
    // wiping the standby would lose the only good copy.
    if (standbyBorn === undefined || primaryBorn === undefined || primaryBorn > standbyBorn) {
      return {
        kind: "refuse",
        reason: `${folder.path} holds a standby of another cluster (system ${systemIdentifier}) made before ${primaryNode}'s (system ${primaryId}); it may hold the only good copy of the data, so it is never wiped`,
        hint:
          `if ${node} holds the site's data, stop the deploy's primary on ${primaryNode}, promote ${node} ` +
          `(harbor-ha failover --node ${node}) and deploy again; if it is really stale, move ${folder.path} aside and re-run`,
      };
    }
    return {
      kind: "wipe-and-clone",
      reason: `it holds a standby of another cluster (system ${systemIdentifier}; ${primaryNode}'s is ${primaryId})`,
    };
  }
  const checked = primaryId === undefined ? " (not compared: the primary did not answer)" : "";
  return { kind: "keep", reason: `it holds a standby of ${primaryNode}'s cluster${checked}` };
}
