import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ResolvedOptions } from "./options.ts";
import { type RetryMark, signedHeaders } from "./signing.ts";
import type { SocketModeHub } from "./socket-mode.ts";

export type Transport = "http" | "socket";

/** One request to the bot and how it answered. */
export interface Delivery {
  readonly transport: Transport;
  /** 0 for the first request, 1.. for Slack's retries. */
  readonly retryNum: number;
  /** The bot's HTTP status; null over Socket Mode or when no answer came. */
  readonly status: number | null;
  /** Whether the bot acknowledged in time (HTTP 200, or a Socket Mode ack). */
  readonly acked: boolean;
  /** The ack's body: parsed JSON where it was JSON, else the text ("" for none). */
  readonly body: unknown;
  readonly rawBody: string;
  readonly contentType: string | undefined;
  readonly latencyMs: number;
  /** Why nothing usable came back: http_timeout, connection_refused, ... */
  readonly error?: string;
}

export interface OutgoingRequest {
  /** The Socket Mode envelope type: slash_commands or interactive. */
  readonly envelopeType: "slash_commands" | "interactive";
  /** The payload as an object (Socket Mode) ... */
  readonly payload: Record<string, unknown>;
  /** ... and as the form body the HTTP request carries. */
  readonly formBody: string;
}

/**
 * Sends commands and clicks to the bot the way Slack does: over Socket Mode when the app holds a
 * connection, else as a signed form POST to its request URL; in both cases Slack waits up to 3 s
 * for the acknowledgement and gives up after that.
 */
export class BotDelivery {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly hub: SocketModeHub,
  ) {}

  transportFor(requested: Transport | undefined): Transport {
    return requested ?? (this.hub.connectionCount > 0 ? "socket" : "http");
  }

  async deliver(request: OutgoingRequest, transport: Transport, retry?: RetryMark): Promise<Delivery> {
    const retryNum = retry?.num ?? 0;
    if (transport === "socket") {
      if (this.hub.connectionCount === 0) {
        return failed("socket", retryNum, "no_socket_connection");
      }
      const ack = await this.hub.send(request.envelopeType, request.payload, retry);
      const payload = ack.payload ?? {};
      return {
        transport,
        retryNum,
        status: null,
        acked: ack.acked,
        body: ack.acked ? payload : undefined,
        rawBody: ack.acked ? JSON.stringify(payload) : "",
        contentType: ack.acked ? "application/json" : undefined,
        latencyMs: ack.latencyMs,
        ...(ack.acked ? {} : { error: "socket_timeout" }),
      };
    }
    return this.post(request.formBody, retry);
  }

  private post(body: string, retry: RetryMark | undefined): Promise<Delivery> {
    const retryNum = retry?.num ?? 0;
    const url = new URL(this.options.botUrl);
    const headers = signedHeaders(
      this.options.signingSecret,
      body,
      "application/x-www-form-urlencoded",
      this.options.now(),
      retry,
    );
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const started = performance.now();
      // No keep-alive: each command is one connection, so the latency is the bot's alone to own.
      const outgoing = send(
        url,
        {
          method: "POST",
          agent: false,
          headers: { ...headers, "Content-Length": Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            clearTimeout(timer);
            const rawBody = Buffer.concat(chunks).toString("utf8");
            const contentType = response.headers["content-type"];
            const status = response.statusCode ?? 0;
            resolve({
              transport: "http",
              retryNum,
              status,
              acked: status === 200,
              body: parseMaybeJson(rawBody),
              rawBody,
              contentType,
              latencyMs: performance.now() - started,
              ...(status === 200 ? {} : { error: "http_error" }),
            });
          });
          response.on("error", () => resolve(failed("http", retryNum, "http_error", started)));
        },
      );
      // Slack waits 3 s for the whole answer, however the bot spends them.
      const timer = setTimeout(() => {
        resolve(failed("http", retryNum, "http_timeout", started));
        outgoing.destroy();
      }, this.options.ackTimeoutMs);
      outgoing.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(
          failed(
            "http",
            retryNum,
            error.code === "ECONNREFUSED" ? "connection_refused" : "http_error",
            started,
          ),
        );
      });
      outgoing.end(body);
    });
  }
}

function failed(transport: Transport, retryNum: number, error: string, started?: number): Delivery {
  return {
    transport,
    retryNum,
    status: null,
    acked: false,
    body: undefined,
    rawBody: "",
    contentType: undefined,
    latencyMs: started === undefined ? 0 : performance.now() - started,
    error,
  };
}

function parseMaybeJson(raw: string): unknown {
  if (raw.trim() === "") return "";
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
