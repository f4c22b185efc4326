import {
  Agent,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from "node:http";

/**
 * Forwards a registry API request to the distribution registry on loopback, streaming both
 * bodies (blobs can be large). The client's Host header goes along, so any absolute URL the
 * registry builds points back at this server, not at its loopback address.
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
  // The registry has no auth of its own; the credentials stop here.
  "authorization",
]);

export function forwardedHeaders(headers: IncomingMessage["headers"]): OutgoingHttpHeaders {
  const forwarded: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) forwarded[name] = value;
  }
  return forwarded;
}

const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

export function proxyToRegistry(
  registryUrl: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): void {
  const target = new URL(registryUrl);
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: incoming.method,
      path: incoming.url,
      headers: { ...forwardedHeaders(incoming.headers), "x-forwarded-proto": "http" },
      agent: upstreamAgent,
    },
    (response) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers[name] = value;
      }
      outgoing.writeHead(response.statusCode ?? 502, headers);
      response.pipe(outgoing);
    },
  );
  upstream.on("error", (error) => {
    if (outgoing.headersSent) {
      outgoing.destroy(error);
      return;
    }
    outgoing.writeHead(502, { "Content-Type": "application/json; charset=utf-8" });
    outgoing.end(
      JSON.stringify({
        errors: [{ code: "UNAVAILABLE", message: `registry unreachable: ${error.message}` }],
      }),
    );
  });
  incoming.on("aborted", () => upstream.destroy());
  incoming.pipe(upstream);
}
