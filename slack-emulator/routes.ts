import type { IncomingMessage, ServerResponse } from "node:http";
import { renderMessageBody } from "./block-render.ts";
import type { Transport } from "./bot-delivery.ts";
import type { EventStreams } from "./event-stream.ts";
import { BodyError, bearerToken, parseFields, readBody, sendJson, sendText } from "./http-io.ts";
import { InteractionError, type Interactions } from "./interactions.ts";
import type { ResolvedOptions } from "./options.ts";
import { channelPage } from "./page.ts";
import { CommandLineError } from "./payloads.ts";
import { applyReply, type ReplyTarget } from "./replies.ts";
import type { ResponseUrls } from "./response-urls.ts";
import type { SocketModeHub } from "./socket-mode.ts";
import type { MessageStore } from "./store.ts";
import type { WebApi } from "./web-api.ts";

export interface RouteDeps {
  readonly options: ResolvedOptions;
  readonly store: MessageStore;
  readonly webApi: WebApi;
  readonly interactions: Interactions;
  readonly responseUrls: ResponseUrls<ReplyTarget>;
  readonly hub: SocketModeHub;
  readonly streams: EventStreams;
}

type Fields = Record<string, unknown>;

const str = (fields: Fields, name: string): string | undefined => {
  const value = fields[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
};

class BadRequest extends Error {
  constructor(
    readonly error: string,
    readonly detail: string,
    readonly status = 400,
  ) {
    super(detail);
  }
}

function required(fields: Fields, name: string): string {
  const value = str(fields, name);
  if (value === undefined) throw new BadRequest("invalid_arguments", `"${name}" is required`);
  return value;
}

function sendOptions(fields: Fields): { retries?: number; retryReason?: string; transport?: Transport } {
  const retries = fields.retries ?? (fields.retry === true ? 1 : undefined);
  const transport = str(fields, "transport");
  if (transport !== undefined && transport !== "http" && transport !== "socket") {
    throw new BadRequest("invalid_arguments", `"transport" must be http or socket`);
  }
  return {
    ...(retries === undefined ? {} : { retries: Number(retries) }),
    ...(str(fields, "retry_reason") ? { retryReason: str(fields, "retry_reason") } : {}),
    ...(transport ? { transport } : {}),
  };
}

/** The emulator's HTTP routes: the Web API, the page and its feeds, and the test controls. */
export function createRouter(deps: RouteDeps): (request: IncomingMessage, response: ServerResponse) => void {
  const { options, store } = deps;
  const userName = (id: string) =>
    id === options.workspace.botUserId
      ? options.workspace.botName
      : options.users.find((user) => user.id === id)?.name;

  const routes = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const { pathname } = url;
    const method = request.method ?? "GET";
    const fields = async () =>
      method === "GET"
        ? Object.fromEntries(url.searchParams)
        : parseFields(await readBody(request), request.headers["content-type"]);

    if (pathname.startsWith("/api/")) {
      const args = await fields();
      const reply = deps.webApi.call(pathname.slice(5), args, bearerToken(request, args));
      sendJson(response, reply.status, reply.body, reply.headers);
      return;
    }
    if (method === "GET" && (pathname === "/" || pathname === "/index.html")) {
      const page = channelPage({
        channel: options.channel,
        users: options.users,
        botUserId: options.workspace.botUserId,
      });
      sendText(response, 200, "text/html; charset=utf-8", page);
      return;
    }
    if (method === "GET" && pathname === "/emulator/messages") {
      const channel = url.searchParams.get("channel") ?? options.channel;
      const viewer = url.searchParams.get("user") ?? undefined;
      sendJson(
        response,
        200,
        store.list(channel, viewer).map((message) => store.view(message)),
      );
      return;
    }
    if (method === "DELETE" && pathname === "/emulator/messages") {
      store.clear(url.searchParams.get("channel") ?? undefined);
      sendJson(response, 200, { ok: true });
      return;
    }
    if (method === "GET" && pathname === "/emulator/view") {
      const channel = url.searchParams.get("channel") ?? options.channel;
      const viewer = url.searchParams.get("user") ?? undefined;
      const messages = store.list(channel, viewer).map((message) => ({
        ...store.view(message),
        revision: message.revision,
        user_name: userName(message.user) ?? message.user,
        is_bot: message.botId !== undefined,
        html: renderMessageBody(message, { userName }),
      }));
      sendJson(response, 200, {
        channel,
        botUrl: options.botUrl,
        socketConnections: deps.hub.connectionCount,
        messages,
      });
      return;
    }
    if (method === "GET" && pathname === "/emulator/events") {
      deps.streams.handle(request, response, url.searchParams.get("channel") ?? undefined);
      return;
    }
    if (method === "GET" && pathname === "/emulator/status") {
      sendJson(response, 200, {
        ok: true,
        botUrl: options.botUrl,
        socketConnections: deps.hub.connectionCount,
        channel: options.channel,
        channels: store.channelIds(),
        users: options.users,
        usergroups: options.usergroups,
        rateLimit: options.rateLimit,
        workspace: options.workspace,
      });
      return;
    }
    if (method === "POST" && pathname === "/emulator/command") {
      const body = await fields();
      const result = await deps.interactions.command({
        channel: str(body, "channel") ?? options.channel,
        user: required(body, "user"),
        text: required(body, "text"),
        ...sendOptions(body),
      });
      sendJson(response, 200, result);
      return;
    }
    if (method === "POST" && pathname === "/emulator/action") {
      const body = await fields();
      const blockId = str(body, "block_id");
      const value = typeof body.value === "string" ? body.value : undefined;
      const result = await deps.interactions.action({
        channel: str(body, "channel") ?? options.channel,
        user: required(body, "user"),
        messageTs: required(body, "message_ts"),
        actionId: required(body, "action_id"),
        ...(blockId === undefined ? {} : { blockId }),
        ...(value === undefined ? {} : { value }),
        ...sendOptions(body),
      });
      sendJson(response, 200, result);
      return;
    }
    const respond = pathname.match(/^\/emulator\/respond\/([A-Za-z0-9]+)$/);
    if (method === "POST" && respond?.[1]) {
      const body = await fields();
      const use = deps.responseUrls.use(respond[1]);
      if (!use.ok) {
        sendJson(response, use.status, { ok: false, error: use.error, detail: use.detail });
        return;
      }
      const outcome = applyReply(store, options.workspace, use.target, body);
      if (!outcome.ok) {
        sendJson(response, outcome.status, {
          ok: false,
          error: outcome.error,
          ...(outcome.errors ? { errors: outcome.errors } : {}),
        });
        return;
      }
      sendJson(response, 200, {
        ok: true,
        action: outcome.action,
        uses_left: use.usesLeft,
        ...(outcome.message ? { message: store.view(outcome.message) } : {}),
      });
      return;
    }
    throw new BadRequest("not_found", `no route for ${method} ${pathname}`, 404);
  };

  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://emulator");
    routes(request, response, url).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof BadRequest) {
        sendJson(response, error.status, { ok: false, error: error.error, detail: error.detail });
      } else if (error instanceof BodyError) {
        sendJson(response, error.status, { ok: false, error: "invalid_body", detail: error.message });
      } else if (error instanceof CommandLineError) {
        sendJson(response, 400, { ok: false, error: "invalid_command", detail: error.message });
      } else if (error instanceof InteractionError) {
        sendJson(response, error.status, { ok: false, error: error.code, detail: error.message });
      } else {
        sendJson(response, 500, {
          ok: false,
          error: "internal_error",
          detail: error instanceof Error ? error.message : String(error),
        });
      }
    });
  };
}
