/**
 * pg_controldata's report of a data folder (runbook 1.5: `pg_controldata | grep state`), parsed.
 * Its lines are `Label:   value`; the labels are stable across PostgreSQL versions we run.
 */

export interface ControlData {
  readonly systemIdentifier: string;
  /** "in production", "in archive recovery", "shut down", "shut down in recovery", ... */
  readonly clusterState: string;
  readonly timeline: number | undefined;
  readonly checksumsEnabled: boolean;
}

export function parseControlDataFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at <= 0) continue;
    fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return fields;
}

/** undefined when the text is not pg_controldata's report (no system identifier or state). */
export function parseControlData(text: string): ControlData | undefined {
  const fields = parseControlDataFields(text);
  const systemIdentifier = fields.get("Database system identifier");
  const clusterState = fields.get("Database cluster state");
  if (!systemIdentifier || !clusterState) return undefined;
  const timeline = Number(fields.get("Latest checkpoint's TimeLineID"));
  const checksums = fields.get("Data page checksum version");
  return {
    systemIdentifier,
    clusterState,
    timeline: Number.isInteger(timeline) ? timeline : undefined,
    checksumsEnabled: checksums !== undefined && checksums !== "0",
  };
}

/** States of a cluster that was (or is) replaying as a standby. */
export function isRecoveryState(clusterState: string): boolean {
  return clusterState === "in archive recovery" || clusterState === "shut down in recovery";
}
