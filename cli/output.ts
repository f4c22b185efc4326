import { isHarborHaError } from "../support/errors.ts";

/** Exit codes: 0 done, 1 the operation failed, 2 bad input (config, usage): nothing was done. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export function printError(error: unknown): number {
  if (isHarborHaError(error)) {
    console.error(error.describe());
    return error.code === "CONFIG_INVALID" ||
      error.code === "CONFIG_UNREADABLE" ||
      error.code === "SLACK_SETTINGS_INVALID"
      ? EXIT.badInput
      : EXIT.failed;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.failed;
}

export function formatMs(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  if (days > 0) return `${days}d${hours}h`;
  if (hours > 0) return `${hours}h${minutes}m`;
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
}
