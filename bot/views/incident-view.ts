import type { ActionReport } from "../../jobs/controller/action-runner.ts";
import { type Incident, timelineText } from "../../jobs/controller/incident.ts";
import { describeAction } from "../../jobs/controller/remediation.ts";
import { type Block, context, escapeMrkdwn, header, section } from "./block-kit.ts";
import { bytes } from "./snapshot-text.ts";

const STATE: Readonly<Record<Incident["state"], string>> = {
  detected: ":rotating_light: Detected",
  remediating: ":gear: Remediating",
  "needs-approval": ":raised_hand: Needs approval",
  resolved: ":white_check_mark: Resolved",
  failed: ":x: Remediation failed: a person must act",
};

/**
 * What the failover lost, as a client sees it. WAL the standby never got is not always a lost
 * write: under synchronous commits the promoted standby had confirmed every commit the primary
 * acknowledged, so the missing WAL only held commits no client was told had happened.
 */
export function writesLost(incident: Incident): string | undefined {
  const lost = incident.lossBytes;
  if (lost === null) return undefined;
  if (incident.confirmedBy) {
    const tail =
      lost === 0 ? "" : `; ${bytes(lost)} of WAL that no client was told was committed did not arrive`;
    return `none (${incident.confirmedBy} had confirmed every acknowledged commit${tail})`;
  }
  return lost === 0 ? "none" : bytes(lost);
}

/** An incident's top message: its state, what was seen, the timeline so far. Pure. */
export function incidentMessage(incident: Incident): { text: string; blocks: Block[] } {
  const lost = writesLost(incident);
  const loss = lost === undefined ? "" : `\n*Writes lost:* ${lost}`;
  const blocks: Block[] = [
    header(`${incident.scenario}`),
    section(
      `*${STATE[incident.state]}* · nodes ${incident.nodes.join(", ") || "-"}\n${escapeMrkdwn(incident.reason)}${loss}`,
    ),
  ];
  if (incident.timeline.length > 0) blocks.push(section(`\`\`\`${timelineText(incident)}\`\`\``));
  blocks.push(context(`incident ${incident.id} · opened ${new Date(incident.openedAt).toISOString()}`));
  return { text: `${STATE[incident.state]}: ${incident.scenario}`, blocks };
}

/** One action of the plan, for the thread. */
export function stepText(report: ActionReport): string {
  const mark = report.ok ? ":white_check_mark:" : ":x:";
  const ms =
    report.durationMs < 1000
      ? `${Math.round(report.durationMs)} ms`
      : `${(report.durationMs / 1000).toFixed(2)} s`;
  return `${mark} ${describeAction(report.action)} (${ms}): ${escapeMrkdwn(report.detail)}`;
}
