import type { SystemMilestones } from "./system.ts";

/**
 * Detection, fencing and promotion of one fault read from the bot's JSON log lines (pino, ISO
 * time): the controller's first decision after the fault is its detection (confirmed), and
 * its first successful fence and promote actions after that. Pure.
 */
export function milestonesFromBotLog(lines: Iterable<string>, faultAt: number): SystemMilestones {
  let detectedAt: number | undefined;
  let fencedAt: number | undefined;
  let promotedAt: number | undefined;
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    let entry: { time?: unknown; event?: unknown; ok?: unknown; action?: { kind?: unknown } };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const at = typeof entry.time === "string" ? Date.parse(entry.time) : Number(entry.time);
    if (!Number.isFinite(at) || at < faultAt) continue;
    if (entry.event === "controller.decision" && detectedAt === undefined) detectedAt = at;
    if (entry.event !== "controller.action" || entry.ok !== true) continue;
    if (entry.action?.kind === "fence" && fencedAt === undefined) fencedAt = at;
    if (entry.action?.kind === "promote" && promotedAt === undefined) promotedAt = at;
  }
  const since = (at: number | undefined) => (at === undefined ? undefined : at - faultAt);
  return { detectedMs: since(detectedAt), fencedMs: since(fencedAt), promotedMs: since(promotedAt) };
}
