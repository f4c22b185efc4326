import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Paths whose values never reach a log line. Secrets are read from the environment at the
 * edges, but a config object, an env map or an error's context may still carry one.
 */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "env.*",
  "*.env.*",
  "headers.authorization",
  "*.headers.authorization",
  "redisUrl",
  "*.redisUrl",
  // Harbor's shared secrets (step-contract.ts HarborSharedSecrets) and the site key, should an
  // object holding them ever be logged; the deploy itself logs and sends neither.
  ...[
    "secretKey",
    "coreSecret",
    "jobserviceSecret",
    "csrfKey",
    "registryHttpSecret",
    "corePrivateKey",
  ].flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
  "siteKey.bytes",
  "*.siteKey.bytes",
];

export interface LoggerOptions {
  component: string;
  node?: string;
  level?: string;
  /** pretty = readable lines for a terminal; json = one JSON object a line (the default). */
  format?: "json" | "pretty";
  destination?: NodeJS.WritableStream;
}

/**
 * The root logger of a process. Every line carries `component` and, where the process acts for
 * one node, `node`; sub-loggers add their own `component` with `logger.child`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, string> = { component: options.component };
  if (options.node) base.node = options.node;
  const pinoOptions = {
    level: options.level ?? "info",
    base,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === "pretty") {
    return pino({
      ...pinoOptions,
      transport: {
        target: "pino-pretty",
        options: {
          colorize: true,
          ignore: "pid,hostname,component,node",
          messageFormat: "[{component}{if node} {node}{end}] {msg}",
        },
      },
    });
  }
  return options.destination
    ? pino(pinoOptions, options.destination as pino.DestinationStream)
    : pino(pinoOptions);
}

/** The format a process should log in: JSON unless a person is watching a terminal or asked for pretty. */
export function defaultLogFormat(stream: { isTTY?: boolean }, requested?: string): "json" | "pretty" {
  if (requested === "json" || requested === "pretty") return requested;
  return stream.isTTY ? "pretty" : "json";
}
