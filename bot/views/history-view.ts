import type { ChainReport } from "../../jobs/audit-chain.ts";
import type { RecordedAuditEntry } from "../../jobs/audit-log.ts";
import { type Block, clip, context, escapeMrkdwn, header, section } from "./block-kit.ts";

/** The reply to `/harbor history [N]`: one line per audit entry, newest first. */
export function historyView(
  site: string,
  entries: readonly RecordedAuditEntry[],
  chain?: ChainReport,
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
      ...(chain ? [context(chainLine(chain))] : []),
      context("times in UTC · `harbor-ha history --json` prints the full log"),
    ],
  };
}

/** One line on the audit chain under the entries (jobs/audit-chain.ts). */
export function chainLine(chain: ChainReport): string {
  if (chain.breaks.length === 0) {
    return `:white_check_mark: chain verified: ${chain.chained} chained entries${chain.unchained > 0 ? `, ${chain.unchained} older unchained` : ""}`;
  }
  const first = chain.breaks[0]?.text ?? "";
  return `:warning: audit chain BROKEN (${chain.breaks.length}): ${escapeMrkdwn(clip(first, 200))} · \`harbor-ha history --verify\` lists every break`;
}
