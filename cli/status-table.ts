import { age, bytes, harborText, keepalivedText, OVERALL_TEXT } from "../bot/views/snapshot-text.ts";
import { type ClusterSnapshot, type NodeView, readingOf, roleOf } from "../jobs/controller/snapshot.ts";

/** `harbor-ha status` for a terminal: a summary, one table row per node, the open problems. Pure. */
export function statusTable(snapshot: ClusterSnapshot): string {
  const write = snapshot.throughVip?.postgresWrite;
  const harbor = snapshot.throughVip?.harbor;
  const lines = [
    `site ${snapshot.site}: ${OVERALL_TEXT[snapshot.overall]}   (snapshot ${new Date(snapshot.takenAt).toISOString()})`,
    `VIP ${snapshot.vip.address} on ${snapshot.vip.holders.join(", ") || "no node"} · primary ${snapshot.primaries.join(", ") || "none"}`,
    `through the VIP: write ${!write ? "not checked" : write.ok ? `ok in ${Math.round(write.durationMs)} ms (on ${write.serverNode ?? "?"})` : `FAILED: ${write.error}`}` +
      ` · Harbor ${!harbor ? "not checked" : harbor.ok ? (harbor.healthy ? "healthy" : "unhealthy") : `unreachable: ${harbor.error}`}`,
    "",
    ...table([
      ["NODE", "ADDRESS", "PG ROLE", "VIP", "LAG", "KEEPALIVED", "HARBOR", "CONTAINERS", "OBSERVED"],
      ...snapshot.nodes.map(row),
    ]),
    "",
  ];
  if (snapshot.findings.length === 0) {
    lines.push("problems: none");
  } else {
    lines.push(`problems (${snapshot.findings.length}):`);
    for (const finding of snapshot.findings)
      lines.push(`  ${finding.severity === "critical" ? "CRIT" : "WARN"}  ${finding.message}`);
  }
  return lines.join("\n");
}

function row(view: NodeView): string[] {
  const observation = view.observation;
  const postgres = readingOf(observation?.postgres);
  const lag =
    postgres?.role === "standby" && postgres.replayLagBytes !== null
      ? `${bytes(postgres.replayLagBytes)}${postgres.replayLagSeconds === null ? "" : ` ${postgres.replayLagSeconds.toFixed(1)}s`}`
      : "-";
  const docker = readingOf(observation?.docker);
  const containers = docker
    ? `${docker.containers.filter((c) => c.state === "running").length}/${docker.containers.length} running`
    : observation
      ? "Docker down"
      : "-";
  const vip = readingOf(observation?.vip);
  return [
    view.node,
    view.address,
    roleOf(view),
    vip ? (vip.holds ? "yes" : "-") : "?",
    lag,
    keepalivedText(view),
    harborText(view).replace(/ \(.*\)$/, ""),
    containers,
    view.stale ? `${age(view.ageMs)} (SILENT)` : age(view.ageMs),
  ];
}

function table(rows: readonly string[][]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0))) ?? [];
  return rows.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}
