import type { ThroughVipChecks } from "../../jobs/controller/snapshot.ts";
import type { NodeObservation, PostgresFacts } from "../../probes/observation.ts";

/**
 * Observations named after situations, for the snapshot, the views and (later) decide().
 * Each builder starts from a healthy node and changes only what the situation says.
 */

export const FIXTURE_NOW = Date.parse("2026-11-30T10:00:00.000Z");
export const FIXTURE_SITE = "lab";
export const FIXTURE_VIP = "10.77.0.100";
export const FIXTURE_NODES = [
  { name: "node01", address: "10.77.0.11" },
  { name: "node02", address: "10.77.0.12" },
] as const;

const ok = { ok: true as const, durationMs: 3 };

/**
 * A primary with these standbys streaming; by default it waits for them (postgres.durability
 * synchronous), or for `waitsFor` when given ("" commits alone).
 */
export function primaryPostgres(
  standbys: readonly string[] = ["node02"],
  waitsFor: string = standbys.length > 0 ? `ANY 1 (${standbys.map((name) => `"${name}"`).join(", ")})` : "",
): PostgresFacts {
  return {
    role: "primary",
    detail: "accepting writes",
    timeline: 1,
    currentLsn: "0/3000148",
    receivedLsn: null,
    replayedLsn: null,
    replayLagBytes: null,
    replayLagSeconds: null,
    walReceiver: null,
    replication: standbys.map((name) => ({
      applicationName: name,
      clientAddr: FIXTURE_NODES.find((node) => node.name === name)?.address ?? null,
      state: "streaming",
      syncState: waitsFor === "" ? "async" : "quorum",
      replayLagBytes: 0,
      replyAgeSeconds: 0.4,
    })),
    synchronousStandbyNames: waitsFor,
  };
}

export function standbyPostgres(lagBytes = 0, senderHost = "10.77.0.11"): PostgresFacts {
  return {
    role: "standby",
    detail: "in recovery",
    timeline: 1,
    currentLsn: null,
    receivedLsn: "0/3000148",
    replayedLsn: "0/3000148",
    replayLagBytes: lagBytes,
    replayLagSeconds: 0.2,
    walReceiver: { status: "streaming", senderHost },
    replication: [],
    synchronousStandbyNames: null,
  };
}

export function healthyObservation(
  node: string,
  options: { primary: boolean; holdsVip?: boolean; ageMs?: number },
): NodeObservation {
  const holds = options.holdsVip ?? options.primary;
  return {
    site: FIXTURE_SITE,
    node,
    seq: 42,
    agentPid: 4242,
    observedAt: FIXTURE_NOW - (options.ageMs ?? 300),
    trigger: "interval",
    postgres: { ...ok, ...(options.primary ? primaryPostgres() : standbyPostgres()) },
    vip: { ...ok, address: FIXTURE_VIP, interface: "eth0", holds },
    keepalived: {
      ...ok,
      running: true,
      state: holds ? "MASTER" : "BACKUP",
      since: "2026-11-30T09:00:00.000Z",
      priority: options.primary ? 150 : 100,
    },
    harbor: {
      ...ok,
      healthy: true,
      components: ["core", "database", "redis", "registry"].map((name) => ({ name, status: "healthy" })),
    },
    redis: { ...ok, role: "master" },
    storage: { ...ok, path: "/srv/harbor-shared", latencyMs: 1.2 },
    docker: {
      ...ok,
      version: "20.10.24",
      containers: [
        { name: `postgres-${node}`, component: "postgres", state: "running", status: "Up 5 minutes" },
        { name: `keepalived-${node}`, component: "keepalived", state: "running", status: "Up 5 minutes" },
      ],
    },
  };
}

/** node01 primary holding the VIP, node02 streaming standby. */
export function healthyPair(): Map<string, NodeObservation> {
  return new Map([
    ["node01", healthyObservation("node01", { primary: true })],
    ["node02", healthyObservation("node02", { primary: false })],
  ]);
}

export function healthyThroughVip(): ThroughVipChecks {
  return {
    checkedAt: FIXTURE_NOW - 100,
    postgresWrite: { ...ok, serverNode: "node01" },
    harbor: {
      ...ok,
      healthy: true,
      components: ["core", "database", "redis", "registry"].map((name) => ({ name, status: "healthy" })),
    },
  };
}

/** The input buildSnapshot takes, for a set of observations. */
export function snapshotInput(
  observations: ReadonlyMap<string, NodeObservation>,
  throughVip: ThroughVipChecks | null = healthyThroughVip(),
) {
  return {
    site: FIXTURE_SITE,
    vipAddress: FIXTURE_VIP,
    nodes: FIXTURE_NODES,
    observations,
    throughVip,
    now: FIXTURE_NOW,
    staleAfterMs: 5_000,
    maxLagBytes: 16 * 1024 * 1024,
    durability: "synchronous" as const,
  };
}

/** The same observation with keepalived not running (crashed or stopped). */
export function keepalivedStopped(observation: NodeObservation): NodeObservation {
  return {
    ...observation,
    keepalived: { ok: true, durationMs: 1, running: false, state: null, since: null, priority: null },
  };
}

/** The same observation with Harbor's health naming these components unhealthy (and these healthy). */
export function harborUnhealthy(
  observation: NodeObservation,
  unhealthy: readonly string[],
  healthy: readonly string[] = [],
): NodeObservation {
  return {
    ...observation,
    harbor: {
      ok: true,
      durationMs: 1,
      healthy: false,
      components: [
        ...healthy.map((name) => ({ name, status: "healthy" })),
        ...unhealthy.map((name) => ({ name, status: "unhealthy" })),
      ],
    },
  };
}

/** The same observation with PostgreSQL's container down (stopped, absent). */
export function postgresDown(
  observation: NodeObservation,
  role: "stopped" | "absent" = "stopped",
): NodeObservation {
  return {
    ...observation,
    postgres: {
      ok: true,
      durationMs: 1,
      ...standbyPostgres(),
      role,
      detail: "exited (137)",
      walReceiver: null,
    },
  };
}
