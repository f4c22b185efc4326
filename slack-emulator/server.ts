import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../support/logger.ts";
import { BotDelivery } from "./bot-delivery.ts";
import { EventStreams } from "./event-stream.ts";
import { type ActionInput, type CommandInput, type InteractionResult, Interactions } from "./interactions.ts";
import { type EmulatorOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { RateLimiter } from "./rate-limiter.ts";
import type { ReplyTarget } from "./replies.ts";
import { ResponseUrls } from "./response-urls.ts";
import { createRouter } from "./routes.ts";
import { SocketModeHub } from "./socket-mode.ts";
import { MessageStore, type MessageView } from "./store.ts";
import { WebApi } from "./web-api.ts";

export interface StartEmulatorOptions extends EmulatorOptions {
  readonly logger?: Logger;
}

export interface RunningEmulator {
  /** http://127.0.0.1:PORT: the channel page. */
  readonly url: string;
  /** For WebClient's `slackApiUrl` (it ends in a slash). */
  readonly apiUrl: string;
  readonly port: number;
  readonly options: ResolvedOptions;
  /** A channel's messages, oldest first; with `viewer`, only those that user sees. */
  messages(channel: string, viewer?: string): MessageView[];
  /** The first message (now there, or posted or changed later) that matches, else an error naming what is there. */
  waitForMessage(
    channel: string,
    predicate: (message: MessageView) => boolean,
    timeoutMs?: number,
  ): Promise<MessageView>;
  /** What POST /emulator/command does: a signed slash command to the bot, and its ack. */
  command(input: CommandInput): Promise<InteractionResult>;
  /** What POST /emulator/action does: a signed button click. */
  action(input: ActionInput): Promise<InteractionResult>;
  readonly socketConnections: number;
  waitForSocketConnections(count?: number, timeoutMs?: number): Promise<void>;
  /** Sends Socket Mode's `disconnect` message: the apps reconnect, as when Slack recycles a server. */
  requestSocketReconnect(): void;
  clear(channel?: string): void;
  close(): Promise<void>;
}

/**
 * Starts the local Slack: the Web API under /api/, Socket Mode, response URLs, the channel page
 * and the controls tests use. Binds 127.0.0.1 unless told otherwise.
 */
export async function startEmulator(input: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const options = resolveOptions(input);
  const logger = input.logger;
  const store = new MessageStore(options.now);
  const hub = new SocketModeHub({
    appId: options.workspace.appId,
    pingIntervalMs: options.socketPingIntervalMs,
    ackTimeoutMs: options.ackTimeoutMs,
    now: options.now,
  });
  const responseUrls = new ResponseUrls<ReplyTarget>({
    uses: options.responseUrlUses,
    ttlMs: options.responseUrlTtlMs,
    now: options.now,
  });
  let origin = "";
  const webApi = new WebApi({
    options,
    store,
    limiter: options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit, options.now),
    openSocketUrl: () => hub.openUrl(origin),
  });
  const interactions = new Interactions({
    options,
    store,
    responseUrls,
    delivery: new BotDelivery(options, hub),
    origin: () => origin,
  });
  const streams = new EventStreams(store);
  const router = createRouter({ options, store, webApi, interactions, responseUrls, hub, streams });
  const server = createServer((request, response) => {
    logger?.debug({ event: "emulator.request", method: request.method, url: request.url }, "request");
    router(request, response);
  });
  server.on("upgrade", (request, socket, head) => {
    if (!hub.handleUpgrade(request, socket, head)) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger?.info(
    { event: "emulator.listening", url: origin, botUrl: options.botUrl },
    "Slack emulator listening",
  );

  const waitForMessage: RunningEmulator["waitForMessage"] = (channel, predicate, timeoutMs = 5_000) => {
    const now = store
      .list(channel)
      .map((message) => store.view(message))
      .find(predicate);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        const have = store.list(channel).map((message) => `${message.ts} ${JSON.stringify(message.text)}`);
        reject(
          new Error(
            `no matching message in ${channel} within ${timeoutMs} ms; it has ${have.length}: ${have.join("; ") || "none"}`,
          ),
        );
      }, timeoutMs);
      const unsubscribe = store.subscribe((change) => {
        if (change.channel !== channel || change.kind === "deleted" || !predicate(change.message)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(change.message);
      });
    });
  };

  return {
    url: origin,
    apiUrl: `${origin}/api/`,
    port,
    options,
    messages: (channel, viewer) => store.list(channel, viewer).map((message) => store.view(message)),
    waitForMessage,
    command: (command) => interactions.command(command),
    action: (action) => interactions.action(action),
    get socketConnections() {
      return hub.connectionCount;
    },
    waitForSocketConnections: (count = 1, timeoutMs = 5_000) => hub.waitForConnections(count, timeoutMs),
    requestSocketReconnect: () => hub.requestReconnect(),
    clear: (channel) => store.clear(channel),
    async close() {
      streams.closeAll();
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger?.info({ event: "emulator.closed" }, "Slack emulator closed");
    },
  };
}
