import type { ClusterSnapshot, Finding, NodeView, OverallState } from "../../jobs/controller/snapshot.ts";
import { roleOf } from "../../jobs/controller/snapshot.ts";
import {
  type Block,
  clip,
  context,
  divider,
  escapeMrkdwn,
  fieldsSection,
  header,
  LIMITS,
  section,
} from "./block-kit.ts";
import {
  age,
  containersText,
  harborText,
  keepalivedText,
  OVERALL_TEXT,
  postgresText,
  vipText,
} from "./snapshot-text.ts";

export interface StatusCard {
  /** The notification and fallback text. */
  readonly text: string;
  readonly blocks: readonly Block[];
}

const EMOJI: Readonly<Record<OverallState, string>> = {
  healthy: ":large_green_circle:",
  degraded: ":large_yellow_circle:",
  critical: ":red_circle:",
  unknown: ":white_circle:",
};

/** Blocks the card needs besides the nodes: header, summary, divider, findings, context. */
const FIXED_BLOCKS = 5;

/**
 * The status card: a header with the site's state, a summary line (VIP holder, primary), one
 * section per node, the findings, and the snapshot's time. Within Block Kit's limits for any
 * number of nodes: nodes that do not fit get one line each in a last section.
 */
export function statusCard(
  snapshot: ClusterSnapshot,
  extras: { readonly paused?: boolean } = {},
): StatusCard {
  const summary = `${extras.paused ? ":double_vertical_bar: *automation PAUSED* · " : ""}${summaryLine(snapshot)}`;
  const nodeBudget = LIMITS.blocks - FIXED_BLOCKS - 1;
  const detailed =
    snapshot.nodes.length <= nodeBudget ? snapshot.nodes : snapshot.nodes.slice(0, nodeBudget - 1);
  const rest = snapshot.nodes.slice(detailed.length);
  const blocks: Block[] = [
    header(`${EMOJI[snapshot.overall]} ${snapshot.site}: ${OVERALL_TEXT[snapshot.overall]}`),
    section(summary),
    divider,
    ...detailed.map(nodeSection),
  ];
  if (rest.length > 0) blocks.push(section(overflowText(rest)));
  blocks.push(section(findingsText(snapshot.findings)));
  blocks.push(
    context(
      `snapshot ${new Date(snapshot.takenAt).toISOString()}`,
      snapshot.throughVip
        ? `checks through the VIP ${age(snapshot.takenAt - snapshot.throughVip.checkedAt)} old`
        : "no check through the VIP yet",
    ),
  );
  const text = clip(`${snapshot.site}: ${OVERALL_TEXT[snapshot.overall]}. ${summary}`, LIMITS.messageText);
  return { text, blocks };
}

function summaryLine(snapshot: ClusterSnapshot): string {
  const holders = snapshot.vip.holders.length > 0 ? snapshot.vip.holders.join(", ") : "no node";
  const primaries = snapshot.primaries.length > 0 ? snapshot.primaries.join(", ") : "none";
  const write = snapshot.throughVip?.postgresWrite;
  const writeText = !write
    ? "not checked"
    : write.ok
      ? `ok (${Math.round(write.durationMs)} ms)`
      : `FAILED: ${escapeMrkdwn(write.error)}`;
  return `VIP ${snapshot.vip.address} on *${holders}* · primary *${primaries}* · write through the VIP ${writeText}`;
}

function nodeSection(view: NodeView): Block {
  const role = roleOf(view);
  const title = `*${view.node}* (${view.address}) · ${role}${view.stale ? " · :warning: silent" : ""}`;
  return fieldsSection(title, [
    `*VIP*\n${escapeMrkdwn(vipText(view))}`,
    `*PostgreSQL*\n${escapeMrkdwn(postgresText(view))}`,
    `*keepalived*\n${escapeMrkdwn(keepalivedText(view))}`,
    `*Harbor*\n${escapeMrkdwn(harborText(view))}`,
    `*Containers*\n${escapeMrkdwn(containersText(view))}`,
    `*Observed*\n${age(view.ageMs)} ago`,
  ]);
}

function nodeLine(view: NodeView): string {
  return escapeMrkdwn(`${view.node}: ${roleOf(view)}, ${vipText(view)}, keepalived ${keepalivedText(view)}`);
}

/** One line per node that did not get a section, as many as fit; the count of the others. */
function overflowText(rest: readonly NodeView[]): string {
  const room = LIMITS.sectionText - 80;
  const lines: string[] = [];
  let used = 0;
  for (const view of rest) {
    const line = clip(nodeLine(view), 300);
    if (used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
  }
  const untold = rest.length - lines.length;
  if (untold > 0) lines.push(`…and ${untold} more nodes: \`harbor-ha status\` lists every node`);
  return lines.join("\n");
}

function findingsText(findings: readonly Finding[]): string {
  if (findings.length === 0) return "*Open problems:* none";
  const lines = findings.map(
    (finding) =>
      `${finding.severity === "critical" ? ":red_circle:" : ":large_yellow_circle:"} ${escapeMrkdwn(finding.message)}`,
  );
  return `*Open problems (${findings.length}):*\n${lines.join("\n")}`;
}
