import type { SiteConfig } from "../../config/schema.ts";
import { commitsWaitForStandby } from "./postgres-config.ts";
import type { DeployStepId } from "./step-contract.ts";

/** Where a step runs: over SSH (no agent there yet), on the node's agent, or on the control plane. */
export type StepRunner = "ssh" | "agent" | "control-plane";

export interface PlannedStep {
  readonly id: DeployStepId;
  /** The node it acts on; undefined for a control-plane step that acts on the whole site. */
  readonly node: string | undefined;
  readonly runner: StepRunner;
  /** What it does, in the runbook's words. */
  readonly title: string;
  /** The runbook step it automates (0, 1, 1.5, 2, 3, 4). */
  readonly runbookStep: string;
}

export interface DeployPlan {
  readonly primaryNode: string;
  readonly primaryReason: string;
  readonly harborVersion: string;
  readonly steps: readonly PlannedStep[];
}

/** What the nodes said of their PostgreSQL before planning. */
export type ObservedPgRole = "primary" | "standby" | "stopped" | "absent" | "unknown";

/**
 * Which node runs the PostgreSQL primary. A deploy never moves the primary: a re-run after a
 * failover keeps the primary where it is now. Only on a fresh site does the first node get it.
 * Two primaries are a split brain that a deploy must not paper over: the caller refuses. So is a
 * standby with no primary (issue 15): the standby may hold the only good copy of the data, and
 * giving the primary to the first node would initdb there and then re-clone (wipe) the standby.
 */
export function choosePrimary(
  site: SiteConfig,
  roles: Readonly<Record<string, ObservedPgRole>>,
): { node: string; reason: string } | { conflict: string[] } | { refuse: { reason: string; hint: string } } {
  const primaries = site.nodes.filter((node) => roles[node.name] === "primary").map((node) => node.name);
  if (primaries.length > 1) return { conflict: primaries };
  const [running] = primaries;
  if (running) return { node: running, reason: `${running} runs the PostgreSQL primary now` };
  const first = site.nodes[0]?.name ?? "";
  const standbys = site.nodes.filter((node) => roles[node.name] === "standby").map((node) => node.name);
  if (standbys.length > 0) {
    return {
      refuse: {
        reason: `no PostgreSQL primary is running, and ${standbys.join(", ")} runs a standby that may hold the only good copy of the data`,
        hint: `a deploy never makes a new primary beside a standby: promote it (harbor-ha failover --node ${standbys[0]}) or start the old primary, then deploy again`,
      },
    };
  }
  return { node: first, reason: `a new site: the first node, ${first}, gets the primary` };
}

/**
 * The runbook's installation (DESIGN §2, steps 0-4) as an ordered list of steps. Pure: the
 * site and the chosen primary in, the plan out. The primary's node goes first wherever order
 * matters: its PostgreSQL before the standbys', its keepalived first so it claims the VIP, its
 * Harbor first so an upgrade is gated on a healthy node before the next one is touched.
 */
export function buildDeployPlan(
  site: SiteConfig,
  primary: { node: string; reason: string },
  harborVersion: string = site.harbor.version,
): DeployPlan {
  const primaryFirst = [
    ...site.nodes.filter((node) => node.name === primary.node),
    ...site.nodes.filter((node) => node.name !== primary.node),
  ];
  const standbys = primaryFirst.slice(1);
  const redisNode = site.nodes.find((node) => node.address === site.harborRedis.host);
  const steps: PlannedStep[] = [
    ...site.nodes.map(
      (node): PlannedStep => ({
        id: "host.docker",
        node: node.name,
        runner: "ssh",
        runbookStep: "0",
        title: `Docker running; daemon.json with insecure-registries ${site.vip.address}:${site.harbor.httpPort} and log rotation`,
      }),
    ),
    ...site.nodes.map(
      (node): PlannedStep => ({
        id: "host.agent",
        node: node.name,
        runner: "ssh",
        runbookStep: "0",
        title: "harbor-ha agent running under supervision and answering ping",
      }),
    ),
    {
      id: "postgres.primary",
      node: primary.node,
      runner: "agent",
      runbookStep: "1",
      title: `PostgreSQL primary (${primary.reason})`,
    },
    ...standbys.map(
      (node): PlannedStep => ({
        id: "postgres.standby",
        node: node.name,
        runner: "agent",
        runbookStep: "1",
        title: `PostgreSQL standby streaming from ${primary.node}${commitsWaitForStandby(site) ? " (synchronous)" : ""}`,
      }),
    ),
    ...primaryFirst.map(
      (node): PlannedStep => ({
        id: "postgres.replication",
        node: node.name,
        runner: "agent",
        runbookStep: "1.5",
        title:
          "replication checks: pg_stat_replication / pg_stat_wal_receiver, pg_controldata, pg_is_in_recovery()",
      }),
    ),
    ...primaryFirst.map(
      (node): PlannedStep => ({
        id: "keepalived",
        node: node.name,
        runner: "agent",
        runbookStep: "2",
        title: `keepalived: VIP ${site.vip.address}/${site.vip.prefix}, BACKUP, priority follows the PostgreSQL role`,
      }),
    ),
    ...(redisNode
      ? [
          {
            id: "harbor.redis",
            node: redisNode.name,
            runner: "agent",
            runbookStep: "3",
            title: `Redis for Harbor on ${site.harborRedis.host}:${site.harborRedis.port}`,
          } satisfies PlannedStep,
        ]
      : []),
    ...primaryFirst.map(
      (node): PlannedStep => ({
        id: "harbor.install",
        node: node.name,
        runner: "agent",
        runbookStep: "3",
        title: `Harbor ${harborVersion}: harbor.yml from the site, shared secrets, prepare, up; healthy before the next node`,
      }),
    ),
    {
      id: "harbor.client",
      node: undefined,
      runner: "control-plane",
      runbookStep: "4",
      title: `client: login, push and pull through ${site.vip.address}:${site.harbor.httpPort}; health through the VIP`,
    },
  ];
  return { primaryNode: primary.node, primaryReason: primary.reason, harborVersion, steps };
}
