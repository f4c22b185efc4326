import { parseLsn } from "../../probes/postgres-facts.ts";
import { parseControlDataFields } from "../deploy/postgres-controldata.ts";

/**
 * The end of a stopped server's WAL: how far it had written when it stopped, the figure a
 * failover's data loss is measured against (pure: the script and its parser).
 *
 * pg_controldata alone is not enough: after a crash its latest checkpoint can be minutes behind
 * the last commit. pg_waldump reads forward from that checkpoint's REDO point and stops where
 * the valid WAL ends, saying where. After a clean stop the last record is the shutdown checkpoint.
 */

/** Separates pg_controldata's report from pg_waldump's end in the one-shot's output. */
const MARK = "@@harbor-ha waldump timeline";

/**
 * Runs in a one-shot container with the data folder mounted read-only at $PGDATA. HISTORY_TLI
 * (from the pg_wal listing) is the newest timeline with a history file: a server promoted and
 * stopped before its first checkpoint writes on a timeline its checkpoint does not name yet.
 */
export const WAL_END_SCRIPT = [
  'control=$(pg_controldata -D "$PGDATA")',
  "printf '%s\\n' \"$control\"",
  'redo=$(printf \'%s\\n\' "$control" | sed -n "s/^Latest checkpoint\'s REDO location: *//p")',
  'tli=$(printf \'%s\\n\' "$control" | sed -n "s/^Latest checkpoint\'s TimeLineID: *//p")',
  'if [ "$HISTORY_TLI" -gt "$tli" ]; then tli=$HISTORY_TLI; fi',
  `echo "${MARK} $tli"`,
  // Only the last lines matter: the last record and the error that ends the WAL.
  'pg_waldump -p "$PGDATA/pg_wal" -t "$tli" -s "$redo" 2>&1 | tail -n 3',
].join("\n");

/** The newest timeline among pg_wal's `XXXXXXXX.history` files (0 when there is none). */
export function highestHistoryTimeline(walFiles: readonly string[]): number {
  let highest = 0;
  for (const name of walFiles) {
    const match = /^([0-9A-F]{8})\.history$/.exec(name);
    if (match?.[1]) highest = Math.max(highest, Number.parseInt(match[1], 16));
  }
  return highest;
}

export function formatLsn(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Where in the WAL `segment` (a 24-hex-digit file name) at `offset` lies. */
export function segmentPosition(segment: string, offset: number, segmentBytes: number): bigint | undefined {
  if (!/^[0-9A-F]{24}$/.test(segment) || segmentBytes <= 0) return undefined;
  const log = BigInt(`0x${segment.slice(8, 16)}`);
  const seg = BigInt(`0x${segment.slice(16, 24)}`);
  return (log << 32n) + seg * BigInt(segmentBytes) + BigInt(offset);
}

const LSN = "([0-9A-F]+/[0-9A-F]+)";

/**
 * The end of valid WAL from pg_waldump's last lines. Its final error names the spot it could not
 * read: `error in WAL record at A: invalid record length at B: wanted 24, got 0` (B is the end),
 * or a page it cannot use, `unexpected pageaddr X in log segment S, offset O` (a recycled segment:
 * the end is S at O). Failing both, the end of the last record read.
 */
export function parseWalEnd(output: string, segmentBytes: number): string | undefined {
  const error = new RegExp(`error in WAL record at ${LSN}: (.*)$`, "m").exec(output);
  const message = error?.[2] ?? /pg_waldump: error: (.*)$/m.exec(output)?.[1] ?? "";
  const at = new RegExp(`\\bat ${LSN}`).exec(message)?.[1];
  if (at) return at;
  const inSegment = /in log segment ([0-9A-F]{24}), offset (\d+)/.exec(message);
  if (inSegment?.[1] && inSegment[2]) {
    const position = segmentPosition(inSegment[1], Number(inSegment[2]), segmentBytes);
    if (position !== undefined) return formatLsn(position);
  }
  const records = [
    ...output.matchAll(new RegExp(`len \\(rec/tot\\):\\s*\\d+/\\s*(\\d+), .*?lsn: ${LSN}`, "g")),
  ];
  const last = records.at(-1);
  const start = parseLsn(last?.[2]);
  if (!last?.[1] || start === undefined) return undefined;
  // Records start on 8-byte boundaries (MAXALIGN); a page header crossed on the way is not counted.
  const end = start + BigInt(Math.ceil(Number(last[1]) / 8) * 8);
  return formatLsn(end);
}

export interface WalEnd {
  readonly clusterState: string;
  readonly timeline: number | null;
  /** The end of WAL, or the latest checkpoint when pg_waldump could not tell. */
  readonly lastLsn: string | null;
  readonly lsnSource: "end-of-wal" | "checkpoint" | null;
}

/** The one-shot's output as a WalEnd; undefined when pg_controldata printed no report. */
export function parseWalEndOutput(output: string): WalEnd | undefined {
  const at = output.indexOf(MARK);
  const control = parseControlDataFields(at < 0 ? output : output.slice(0, at));
  const clusterState = control.get("Database cluster state");
  if (!clusterState) return undefined;
  const tail = at < 0 ? "" : output.slice(at + MARK.length);
  const dumpTimeline = Number(/^\s*(\d+)/.exec(tail)?.[1]);
  const checkpointTimeline = Number(control.get("Latest checkpoint's TimeLineID"));
  const timeline = Number.isInteger(dumpTimeline) && dumpTimeline > 0 ? dumpTimeline : checkpointTimeline;
  const segmentBytes = Number(control.get("Bytes per WAL segment") ?? 16 * 1024 * 1024);
  const end = at < 0 ? undefined : parseWalEnd(tail, segmentBytes);
  const checkpoint = control.get("Latest checkpoint location");
  return {
    clusterState,
    timeline: Number.isInteger(timeline) && timeline > 0 ? timeline : null,
    lastLsn: end ?? checkpoint ?? null,
    lsnSource: end ? "end-of-wal" : checkpoint ? "checkpoint" : null,
  };
}
