import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import type { Registry } from "prom-client";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class ListenAddressError extends Error {
  override readonly name = "ListenAddressError";
}

/**
 * "HOST:PORT" (an IPv4 address, or "[IPv6]:PORT") as a listen address; "off" or port 0 as
 * undefined: no metrics endpoint. Throws ListenAddressError for anything else.
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const value = text.trim();
  if (value === "off") return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || isIP(host) === 0 || !Number.isInteger(port) || port > 65535) {
    throw new ListenAddressError(
      `${JSON.stringify(text)} is not HOST:PORT (an IP address and a port) or "off"`,
    );
  }
  return port === 0 ? undefined : { host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface MetricsServer {
  /** http://HOST:PORT/metrics, with the port the kernel gave when 0 was asked for. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Whether an Authorization header carries the bearer token. Both sides are hashed first, so the
 * comparison takes the same time whatever the guess and whatever its length.
 */
export function bearerAuthorized(header: string | undefined, token: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(header ?? "")?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0;
}

export interface MetricsServerOptions {
  /** When set, every request must carry `Authorization: Bearer TOKEN`; others get 401. */
  readonly bearerToken?: string;
}

/**
 * A tiny HTTP server for one prom-client registry, listening: `GET /metrics` and nothing else.
 * Scrapes are rare and small, so no framework; a failing collector answers 500 with its message.
 */
export async function serveMetrics(
  registry: Registry,
  listen: ListenAddress,
  options: MetricsServerOptions = {},
): Promise<Server> {
  const { bearerToken } = options;
  const server = createServer((request, response) => {
    if (bearerToken !== undefined && !bearerAuthorized(request.headers.authorization, bearerToken)) {
      response
        .writeHead(401, {
          "content-type": "text/plain",
          "www-authenticate": 'Bearer realm="harbor-ha metrics"',
        })
        .end("unauthorized: send Authorization: Bearer TOKEN (the variable metrics.bearerTokenEnv names)\n");
      return;
    }
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { "content-type": registry.contentType });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

/** serveMetrics with its URL (the port the kernel gave, when 0 was asked for) and a close that does not wait for idle scrapers. */
export async function startMetricsServer(
  registry: Registry,
  listen: ListenAddress,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const server = await serveMetrics(registry, listen, options);
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : listen.port;
  return {
    url: `http://${formatListenAddress({ host: listen.host, port })}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's kept-alive connection must not hold the agent's shutdown.
        server.closeAllConnections();
      }),
  };
}
