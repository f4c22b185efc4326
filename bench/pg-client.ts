import type pg from "pg";
import { labQuery } from "../test/support/lab-postgres.ts";

export interface PgTarget {
  readonly host: string;
  readonly password: string;
  readonly user?: string;
}

/** Runs statements in order on a fresh connection; the last one's rows. Bounded by `timeoutMs`. */
export function pgQuery<T extends pg.QueryResultRow>(
  target: PgTarget,
  sql: string | readonly string[],
  timeoutMs = 1_000,
): Promise<T[]> {
  return labQuery<T>(target.host, sql, {
    password: target.password,
    ...(target.user ? { user: target.user } : {}),
    timeoutMs,
  });
}

/** True when the server answers and is not in recovery; false for a standby or no answer. */
export async function isPrimary(target: PgTarget, timeoutMs = 500): Promise<boolean> {
  try {
    const [row] = await pgQuery<{ standby: boolean }>(
      target,
      "select pg_is_in_recovery() as standby",
      timeoutMs,
    );
    return row?.standby === false;
  } catch {
    return false;
  }
}
