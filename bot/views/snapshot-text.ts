import {
  harborProblem,
  type NodeView,
  type OverallState,
  readingOf,
} from "../../jobs/controller/snapshot.ts";

/**
 * One phrase per fact of a node, shared by the terminal table and the Slack card so that both
 * say the same thing the same way. Pure: a view in, a string out.
 */

export function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
}

export function age(ms: number | null): string {
  if (ms === null) return "never";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function postgresText(view: NodeView): string {
  const reading = view.observation?.postgres;
  if (!reading) return "not observed";
  if (!reading.ok) return `probe failed: ${reading.error}`;
  const timeline = reading.timeline === null ? "" : ` tl${reading.timeline}`;
  switch (reading.role) {
    case "primary": {
      const standbys = reading.replication.map((r) => `${r.applicationName} ${r.state}/${r.syncState}`);
      const names = reading.synchronousStandbyNames;
      const commits =
        names === null ? "" : names.trim() === "" ? "; commits alone" : `; commits wait for ${names}`;
      return `primary${timeline}, ${standbys.length > 0 ? `standbys: ${standbys.join(", ")}` : "no standby connected"}${commits}`;
    }
    case "standby": {
      const lag =
        reading.replayLagBytes === null
          ? "lag ?"
          : `lag ${bytes(reading.replayLagBytes)}${reading.replayLagSeconds === null ? "" : ` / ${reading.replayLagSeconds.toFixed(1)} s`}`;
      const receiver = reading.walReceiver
        ? `${reading.walReceiver.status}${reading.walReceiver.senderHost ? ` from ${reading.walReceiver.senderHost}` : ""}`
        : "no WAL receiver";
      return `standby${timeline}, ${lag}, ${receiver}`;
    }
    default:
      return `${reading.role}: ${reading.detail}`;
  }
}

export function vipText(view: NodeView): string {
  const reading = view.observation?.vip;
  if (!reading) return "not observed";
  if (!reading.ok) return `probe failed: ${reading.error}`;
  return reading.holds ? "holds the VIP" : "-";
}

export function keepalivedText(view: NodeView): string {
  const reading = readingOf(view.observation?.keepalived);
  if (!view.observation) return "not observed";
  if (!reading)
    return view.observation.keepalived.ok ? "?" : `probe failed: ${view.observation.keepalived.error}`;
  if (!reading.running) return "not running";
  return reading.state
    ? `${reading.state}${reading.priority === null ? "" : ` (prio ${reading.priority})`}`
    : "running";
}

export function harborText(view: NodeView): string {
  const observation = view.observation;
  if (!observation) return "not observed";
  const reading = readingOf(observation.harbor);
  if (reading?.healthy) return `healthy (${reading.components.map((c) => c.name).join(", ")})`;
  return harborProblem(observation.harbor);
}

export function containersText(view: NodeView): string {
  const observation = view.observation;
  if (!observation) return "not observed";
  if (!observation.docker.ok) return `Docker: ${observation.docker.error}`;
  const containers = observation.docker.containers;
  if (containers.length === 0) return "no managed containers";
  return containers.map((c) => `${c.component} ${c.state}`).join(", ");
}

export const OVERALL_TEXT: Readonly<Record<OverallState, string>> = {
  healthy: "healthy",
  degraded: "degraded",
  critical: "CRITICAL",
  unknown: "unknown (no agent has reported)",
};
