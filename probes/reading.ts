import type { ProbeReading } from "./observation.ts";

/**
 * The one place that turns a piece of probing work into a ProbeReading: a deadline, the time it
 * took, and any failure as data. Every probe goes through here, so none can throw at the loop or
 * hang it.
 */

export type ProbeName = "postgres" | "vip" | "keepalived" | "harbor" | "redis" | "storage" | "docker";

export const PROBE_NAMES: readonly ProbeName[] = [
  "postgres",
  "vip",
  "keepalived",
  "harbor",
  "redis",
  "storage",
  "docker",
];

export class ProbeTimeoutError extends Error {
  override readonly name = "ProbeTimeoutError";
}

/**
 * Runs `work` with a signal that aborts at the deadline, and rejects at the deadline even when
 * the work ignores its signal (a hung socket or NFS call): the caller is never held longer.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ProbeTimeoutError(`${what}: no answer within ${Math.round(timeoutMs)} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A readable reason for any error: Node's network errors can have an empty message (an
 * AggregateError from a multi-address connect) and fetch hides the real one in `cause`.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (error.message === "fetch failed" && cause instanceof Error) return describeError(cause);
  if (error.message) return error.message;
  const errors = (error as { errors?: unknown[] }).errors;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(describeError).join("; ");
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error.name;
}

export function failedReading(error: unknown, durationMs: number): ProbeReading<never> {
  return { ok: false, error: describeError(error), durationMs };
}

/**
 * One reading: the facts `work` returns, or why there are none. Never throws; the duration is
 * measured here so every probe reports it the same way.
 */
export async function readProbe<T extends object>(
  timeoutMs: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<ProbeReading<T>> {
  const started = performance.now();
  try {
    const facts = await withTimeout(timeoutMs, what, work);
    return { ...facts, ok: true, durationMs: performance.now() - started } as ProbeReading<T>;
  } catch (error) {
    return failedReading(error, performance.now() - started);
  }
}
