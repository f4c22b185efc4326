import type { Durability, Policy } from "../../config/schema.ts";
import type { PostgresFacts } from "../../probes/observation.ts";
import { streamingStandbys } from "../primary-lease.ts";
import type { ClusterSnapshot } from "./snapshot.ts";

/**
 * When the primary acknowledges a commit (postgres.durability), decided as pure functions.
 *
 * With "synchronous" (the default) the primary waits for its standby, so a failover to that
 * standby loses no acknowledged write. While no standby streams, waiting would stop every write:
 * the controller lets the primary commit alone (synchronous_standby_names '') and says so, and
 * turns waiting back on once a standby streams and has caught up (Patroni's synchronous_mode,
 * CloudNativePG's dataDurability "preferred"). "strict" never commits alone: writes wait while
 * no standby streams. "asynchronous" never waits.
 */

/** The standby names in synchronous_standby_names ("ANY 1 (\"node02\")", "FIRST 1 (a, b)", "a, b"). */
export function listedStandbys(names: string | null): string[] {
  const text = names?.trim() ?? "";
  if (text === "") return [];
  const list = /^(?:(?:ANY|FIRST)\s+)?\d+\s*\((.*)\)$/is.exec(text)?.[1] ?? text;
  return list
    .split(",")
    .map((name) => name.trim().replace(/^"(.*)"$/, "$1"))
    .filter((name) => name !== "");
}

/** How many of the listed standbys must confirm a commit (1 for a bare list). */
function requiredConfirmations(names: string): number {
  const count = /^(?:(?:ANY|FIRST)\s+)?(\d+)\s*\(/i.exec(names.trim())?.[1];
  return count === undefined ? 1 : Number(count);
}

/**
 * The one standby that has every commit the primary acknowledged, when the setting makes that
 * so: exactly one named standby (never "*"), at least one confirmation required. With two
 * candidates and ANY 1, either may hold the last commit, so neither is the sure one.
 */
export function confirmingStandby(names: string | null): string | null {
  if (names === null || names.trim() === "") return null;
  const listed = listedStandbys(names);
  const [only] = listed;
  if (listed.length !== 1 || only === undefined || only === "*") return null;
  return requiredConfirmations(names) >= 1 ? only : null;
}

/** The primary's commits wait for a standby now. */
export function commitsWait(postgres: Pick<PostgresFacts, "synchronousStandbyNames">): boolean {
  return listedStandbys(postgres.synchronousStandbyNames).length > 0;
}

/** The listed standbys that stream from this primary now, with a fresh reply. */
export function confirmingNow(
  postgres: Pick<PostgresFacts, "replication" | "synchronousStandbyNames">,
): string[] {
  const listed = new Set(listedStandbys(postgres.synchronousStandbyNames));
  return streamingStandbys(postgres).filter((name) => listed.has(name) || listed.has("*"));
}

export interface DurabilityChange {
  readonly node: string;
  /** true: commit without waiting (synchronous_standby_names ''); false: wait again as deployed. */
  readonly alone: boolean;
  /** One sentence for the alert channel and the log. */
  readonly reason: string;
}

export interface DurabilityInput {
  readonly snapshot: ClusterSnapshot;
  readonly durability: Durability;
  readonly policy: Pick<Policy, "confirmations" | "maxLagBytes">;
  /** For how many observations in a row each finding has held (confirmations.ts), by findingKey. */
  readonly confirmations: ReadonlyMap<string, number>;
  /** The site's node names: a primary waits for any one of the others (postgres-config.ts). */
  readonly nodes: readonly string[];
}

/**
 * Going back to waiting costs nothing but must not flap: the standby streams, caught up, for
 * twice as long as a fault takes to confirm.
 */
export const SYNCHRONOUS_AGAIN_PATIENCE = 2;

/** Whether the primary should start or stop committing alone now; undefined: leave it. */
export function decideDurability(input: DurabilityInput): DurabilityChange | undefined {
  if (input.durability === "asynchronous") return undefined;
  const { snapshot } = input;
  const [primary] = snapshot.primaries;
  if (snapshot.primaries.length !== 1 || primary === undefined) return undefined;
  const reading = snapshot.nodes.find((view) => view.node === primary)?.observation?.postgres;
  const facts = reading?.ok ? reading : undefined;
  if (!facts || facts.synchronousStandbyNames === null) return undefined;
  const held = (code: string, patience = 1) =>
    snapshot.findings.some((finding) => finding.code === code && finding.node === primary) &&
    (input.confirmations.get(`${code}:${primary}`) ?? 0) >= input.policy.confirmations * patience;

  if (input.durability === "synchronous" && held("commits-waiting")) {
    const waitedFor = listedStandbys(facts.synchronousStandbyNames).join(", ");
    return {
      node: primary,
      alone: true,
      reason: `${waitedFor} does not stream from ${primary}, so its commits would wait forever: ${primary} commits alone until a standby streams again (a failover meanwhile may lose the last acknowledged writes)`,
    };
  }
  if (!held("commits-alone", SYNCHRONOUS_AGAIN_PATIENCE)) return undefined;
  const others = new Set(input.nodes.filter((node) => node !== primary));
  const streaming = new Set(streamingStandbys(facts).filter((name) => others.has(name)));
  const caughtUp = facts.replication.find(
    (standby) =>
      streaming.has(standby.applicationName) &&
      standby.replayLagBytes !== null &&
      standby.replayLagBytes <= input.policy.maxLagBytes,
  );
  if (!caughtUp) return undefined;
  return {
    node: primary,
    alone: false,
    reason: `${caughtUp.applicationName} streams from ${primary} again (${caughtUp.replayLagBytes} bytes behind): ${primary}'s commits wait for it again, and a failover to it loses no acknowledged write`,
  };
}
