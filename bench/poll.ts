import { sleep } from "./processes.ts";

/**
 * Polls `probe` until it says true, or fails after `limitMs` naming what did not happen, the
 * probe's last error and, when given, more context (a log tail).
 */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  limitMs: number,
  options: { readonly intervalMs?: number; readonly context?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(options.intervalMs ?? 250);
  }
  const context = options.context?.();
  throw new Error(`${what} did not happen within ${limitMs} ms ${last}${context ? `\n${context}` : ""}`);
}
