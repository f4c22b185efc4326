/** "1.23" seconds from ms, "-" for nothing, ">" for a censored (timed out) maximum. Pure. */
export function seconds(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "-";
  return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
}

/** "x0.12": how many times the baseline's figure ours is. */
export function times(value: number): string {
  return Number.isFinite(value) && value > 0 ? `x${value.toFixed(value < 0.1 ? 3 : 2)}` : "x?";
}

export function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}
