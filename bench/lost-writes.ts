/**
 * Acknowledged writes that the surviving primary does not have. A write counts only once the
 * server acknowledged its commit; one that failed or timed out on the client may or may not be
 * there, and is no loss either way. Pure.
 */
export function lostWrites(acknowledged: readonly number[], present: Iterable<number>): number[] {
  const have = new Set(present);
  return acknowledged.filter((id) => !have.has(id));
}
