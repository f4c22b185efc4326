import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isAuthorized, unauthorizedResponse } from "./basic-auth.ts";
import type { CoreConfig } from "./config.ts";
import { type CheckResult, componentHealth, overallHealth } from "./health.ts";
import { proxyToRegistry } from "./registry-proxy.ts";

/**
 * The stand-in for Harbor's core: the parts of its API that harbor-ha and registry clients use.
 *   /api/v2.0/ping        "Pong"
 *   /api/v2.0/health      Harbor's health JSON, from real checks
 *   /api/v2.0/systeminfo  the version
 *   /v2/...               the registry API, for the admin user only
 */

export interface HealthChecks {
  readonly database: () => Promise<CheckResult>;
  readonly redis: () => Promise<CheckResult>;
  readonly registry: () => Promise<CheckResult>;
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(body)) });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, { "Content-Type": "application/json; charset=utf-8" }, JSON.stringify(value));
}

/** A check that throws instead of answering is a failed check, not a dead server. */
async function settled(check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function healthAnswer(checks: HealthChecks) {
  const [database, redis, registry] = await Promise.all([
    settled(checks.database),
    settled(checks.redis),
    settled(checks.registry),
  ]);
  return overallHealth([
    componentHealth("core", undefined),
    componentHealth("database", database),
    componentHealth("redis", redis),
    componentHealth("registry", registry),
  ]);
}

export function createCoreServer(
  config: CoreConfig,
  checks: HealthChecks,
  log: (line: string) => void,
): Server {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path === "/v2" || path.startsWith("/v2/")) {
      if (!isAuthorized(request.headers.authorization, config.admin)) {
        const denied = unauthorizedResponse();
        request.resume();
        send(response, denied.status, denied.headers, denied.body);
        return;
      }
      proxyToRegistry(config.registryUrl, request, response);
      return;
    }
    request.resume();
    if (path === "/api/v2.0/ping") {
      send(response, 200, { "Content-Type": "text/plain; charset=utf-8" }, "Pong");
    } else if (path === "/api/v2.0/health") {
      sendJson(response, 200, await healthAnswer(checks));
    } else if (path === "/api/v2.0/systeminfo") {
      sendJson(response, 200, {
        harbor_version: config.harborVersion,
        auth_mode: "db_auth",
        registry_url: config.hostname,
        external_url: `http://${config.hostname}:${config.listen.port}`,
        self_registration: false,
        has_ca_root: false,
      });
    } else {
      sendJson(response, 404, {
        errors: [{ code: "NOT_FOUND", message: `${path} is not served by the stand-in` }],
      });
    }
  };
  return createServer((request, response) => {
    const started = Date.now();
    response.on("finish", () => {
      log(`${request.method} ${request.url} ${response.statusCode} ${Date.now() - started}ms`);
    });
    handle(request, response).catch((error: unknown) => {
      log(`error serving ${request.url}: ${String(error)}`);
      if (!response.headersSent)
        sendJson(response, 500, { errors: [{ code: "UNKNOWN", message: String(error) }] });
      else response.destroy();
    });
  });
}
