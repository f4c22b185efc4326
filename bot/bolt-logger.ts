import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger } from "../support/logger.ts";

export type RefusalReason = "stale" | "signature" | "oversized" | "malformed";

/**
 * Bolt's logger interface over our pino logger. Bolt reports a refused request (bad signature,
 * stale timestamp, oversized body) only as a warning line; this adapter turns those lines into
 * structured `slack.request.refused` events and tells the caller, which counts them.
 */
export function boltLogger(logger: Logger, onRefused: (reason: RefusalReason) => void): BoltLogger {
  const log = logger.child({ component: "bolt" });
  let level: LogLevel = LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((part) => (part instanceof Error ? part.message : String(part))).join(" ");
  return {
    debug: (...parts: unknown[]) => log.debug(text(parts)),
    info: (...parts: unknown[]) => log.info(text(parts)),
    warn: (...parts: unknown[]) => {
      const message = text(parts);
      const reason = refusalReason(message);
      if (reason) {
        onRefused(reason);
        log.warn({ event: "slack.request.refused", reason }, message);
      } else {
        log.warn(message);
      }
    },
    error: (...parts: unknown[]) => log.error(text(parts)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** Which refusal a Bolt warning reports, if it reports one. */
export function refusalReason(message: string): RefusalReason | undefined {
  if (/request body exceeded/i.test(message)) return "oversized";
  if (/malformed request body/i.test(message)) return "malformed";
  if (!/failed to (parse and )?verify/i.test(message)) return undefined;
  return /stale/i.test(message) ? "stale" : "signature";
}
