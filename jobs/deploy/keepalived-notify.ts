import { type KeepalivedLayout, plainPath } from "./keepalived-conf.ts";

/**
 * keepalived's notify script and the state file it writes (pure: no I/O).
 *
 * keepalived runs the script on every state change of the instance with four arguments: TYPE
 * ("INSTANCE"), NAME, STATE (MASTER, BACKUP, FAULT, STOP, DELETED) and PRIORITY. The script
 * replaces the state file with one line, `STATE TIME TYPE NAME PRIORITY`, by rename so a reader
 * never sees half a line, and appends the same line to a short history.
 *
 * A notify script rather than notify_fifo: keepalived stops its fifo reader before the STOP
 * event reaches it, and a graceful stop (fencing) is exactly the change a probe must see.
 */

/** Lines the history keeps once it is trimmed (it is trimmed when twice as long). */
export const TRANSITIONS_KEPT = 500;

/** The image has /bin/sh (dash) and coreutils; nothing else is assumed. */
export function renderNotifyScript(layout: KeepalivedLayout): string {
  return [
    "#!/bin/sh",
    "# Written by harbor-ha's keepalived deploy step; keepalived runs it on each VRRP state change",
    "# with: TYPE NAME STATE PRIORITY. It records the change for the agent's probes.",
    "umask 022",
    `state_file='${plainPath(layout.stateFile)}'`,
    `history='${plainPath(layout.transitionsLog)}'`,
    'line="$3 $(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) $1 $2 $4"',
    // A temporary name per run: two changes in quick succession must not share one.
    'printf \'%s\\n\' "$line" > "$state_file.$$" && mv -f "$state_file.$$" "$state_file"',
    'printf \'%s\\n\' "$line" >> "$history"',
    `if [ "$(wc -l < "$history")" -gt ${TRANSITIONS_KEPT * 2} ]; then`,
    `  tail -n ${TRANSITIONS_KEPT} "$history" > "$history.$$" && mv -f "$history.$$" "$history"`,
    "fi",
    "exit 0",
    "",
  ].join("\n");
}

export type VrrpState = "MASTER" | "BACKUP" | "FAULT" | "STOP" | "DELETED";
const VRRP_STATES: readonly string[] = ["MASTER", "BACKUP", "FAULT", "STOP", "DELETED"];

export interface StateRecord {
  readonly state: VrrpState;
  /** ISO 8601, UTC, as the node's clock had it. */
  readonly at: string;
  readonly instance: string;
  readonly priority: number;
}

/** The last line of a state file (or of the history), or undefined when it is not one. */
export function parseStateLine(text: string | undefined): StateRecord | undefined {
  const line = text?.trim().split("\n").at(-1)?.trim();
  if (!line) return undefined;
  const [state, at, type, instance, priority] = line.split(/\s+/);
  if (!state || !VRRP_STATES.includes(state) || type !== "INSTANCE" || !instance || !at) return undefined;
  const value = Number(priority);
  if (!Number.isInteger(value) || Number.isNaN(Date.parse(at))) return undefined;
  return { state: state as VrrpState, at, instance, priority: value };
}

/** "MASTER since 2026-01-02T03:04:05.000Z (priority 150)" */
export function describeState(record: StateRecord | undefined): string {
  return record ? `${record.state} since ${record.at} (priority ${record.priority})` : "none recorded";
}
