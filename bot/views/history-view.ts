import type { RecordedAuditEntry } from "../../jobs/audit-log.ts";
import { type Block, clip, context, escapeMrkdwn, header, section } from "./block-kit.ts";

/** The reply to `/harbor history [N]`: one line per audit entry, newest first. */
export function historyView(
  site: string,
  entries: readonly RecordedAuditEntry[],
): { text: string; blocks: Block[] } {
  if (entries.length === 0) {
    return { text: `${site}: the audit log is empty`, blocks: [section("The audit log is empty.")] };
  }
  const lines = entries.map((entry) => {
    const who = /^[UW][A-Z0-9]+$/.test(entry.actor) ? `<@${entry.actor}>` : escapeMrkdwn(entry.actor);
    const detail = entry.detail ? ` · ${escapeMrkdwn(clip(entry.detail, 120))}` : "";
    return `\`${new Date(entry.at).toISOString().replace("T", " ").slice(0, 19)}\` ${who} ${escapeMrkdwn(entry.action)} → *${escapeMrkdwn(entry.outcome)}*${detail}`;
  });
  // 50 entries of up to ~250 characters each: two sections keep each under 3,000.
  const half = Math.ceil(lines.length / 2);
  const chunks = lines.length > 10 ? [lines.slice(0, half), lines.slice(half)] : [lines];
  return {
    text: `${site}: the last ${entries.length} audit entries`,
    blocks: [
      header(`${site}: the last ${entries.length} audit entries`),
      ...chunks.map((chunk) => section(chunk.join("\n"))),
      context("times in UTC · `harbor-ha history --json` prints the full log"),
    ],
  };
}
