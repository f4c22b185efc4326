/**
 * What the controller can do to the cluster: the actions of a remediation plan, each carried out
 * by one or more agent jobs, and the decision that orders them. Types only.
 */

export type RemediationAction =
  /** Stop the node's keepalived gracefully (the VIP leaves at once) and its PostgreSQL, and keep them down. */
  | { readonly kind: "fence"; readonly node: string }
  /** Point every node's keepalived role file at the primary-to-be: the VIP follows the role. */
  | { readonly kind: "set-roles"; readonly primary: string }
  | { readonly kind: "promote"; readonly node: string }
  /** A write through the VIP must succeed, on the expected node. */
  | { readonly kind: "verify-write"; readonly node: string }
  | { readonly kind: "restart-postgres"; readonly node: string }
  /** pg_rewind the node's old primary from the current one and start it as a standby. */
  | {
      readonly kind: "rejoin";
      readonly node: string;
      readonly primary: string;
      readonly allowReclone?: boolean;
    }
  | { readonly kind: "start-keepalived"; readonly node: string }
  /** Stop and start keepalived: a fresh start removes a VIP a crashed keepalived left behind. */
  | { readonly kind: "restart-keepalived"; readonly node: string }
  | { readonly kind: "restart-harbor"; readonly node: string; readonly components: readonly string[] }
  /** A planned switchover: the primary refuses new writes; its current LSN is what the standby must reach. */
  | { readonly kind: "block-writes"; readonly node: string }
  /** The standby replays up to the LSN block-writes returned: then no write can be lost. */
  | { readonly kind: "wait-replay"; readonly node: string }
  /** The primary's commits stop (alone) or start again waiting for a standby (postgres.durability). */
  | { readonly kind: "set-durability"; readonly node: string; readonly alone: boolean };

export type ActionKind = RemediationAction["kind"];

/** The runbook's scenarios (DESIGN §2, §4) and the ones beyond it. */
export type Scenario =
  | "S1/S3: primary down on the VIP node"
  | "S2: old primary's node is back"
  | "S4: keepalived down on the VIP holder"
  | "standby PostgreSQL down"
  | "keepalived down on a standby's node"
  | "Harbor unhealthy"
  | "VIP on no node"
  | "VIP on two nodes"
  | "VIP not on the primary"
  | "two writable primaries"
  | "switchover"
  | "manual failover"
  | "rejoin"
  | "healthy";

export interface Decision {
  readonly scenario: Scenario;
  readonly actions: readonly RemediationAction[];
  /** One sentence: what was seen and what is done about it; logged, posted and asserted on. */
  readonly reason: string;
  /** Act only after a person approves (lag over the limit, flapping, paused, a risky guess). */
  readonly needsApproval: boolean;
  /** The nodes whose findings this decision answers, for the incident it belongs to. */
  readonly nodes: readonly string[];
  /**
   * A person approved going on even if the old primary cannot be fenced (it is unreachable both
   * ways): the failed fence is reported and the plan goes on. Only a forced failover sets it.
   */
  readonly forced?: boolean;
}

export function describeAction(action: RemediationAction): string {
  switch (action.kind) {
    case "fence":
      return `fence ${action.node} (keepalived stopped, PostgreSQL stopped and kept down)`;
    case "set-roles":
      return `VIP priority to ${action.primary}`;
    case "promote":
      return `promote ${action.node}`;
    case "verify-write":
      return `verify a write through the VIP lands on ${action.node}`;
    case "restart-postgres":
      return `restart PostgreSQL on ${action.node}`;
    case "rejoin":
      return `rejoin ${action.node} as a standby of ${action.primary} (${action.allowReclone ? "pg_rewind, else re-clone with pg_basebackup" : "pg_rewind"})`;
    case "start-keepalived":
      return `start keepalived on ${action.node}`;
    case "restart-keepalived":
      return `restart keepalived on ${action.node}`;
    case "block-writes":
      return `block new writes on ${action.node} and note its last LSN`;
    case "wait-replay":
      return `wait until ${action.node} has replayed that LSN`;
    case "set-durability":
      return action.alone
        ? `let ${action.node} commit without waiting for a standby`
        : `make ${action.node}'s commits wait for a standby again`;
    case "restart-harbor":
      return `restart Harbor on ${action.node}${action.components.length > 0 ? ` (${action.components.join(", ")})` : ""}`;
    default: {
      const unknown: never = action;
      return String(unknown);
    }
  }
}
