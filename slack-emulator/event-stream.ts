import type { IncomingMessage, ServerResponse } from "node:http";
import type { MessageStore } from "./store.ts";

/**
 * `GET /emulator/events[?channel=ID]`: server-sent events, one `change` event for every message
 * posted, updated or deleted (in that channel, or anywhere). The page draws again on each; a
 * test in another process can follow it too. A comment every 15 s keeps proxies from closing it.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly store: MessageStore) {}

  handle(request: IncomingMessage, response: ServerResponse, channel: string | undefined): void {
    response.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    response.write("retry: 1000\n\n");
    response.write(`event: ready\ndata: ${JSON.stringify({ channel: channel ?? null })}\n\n`);
    const unsubscribe = this.store.subscribe((change) => {
      if (channel !== undefined && change.channel !== channel) return;
      response.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    });
    const heartbeat = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
    this.open.add(response);
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(response);
    };
    request.on("close", stop);
    response.on("close", stop);
  }

  /** Ends every stream, so the server can close. */
  closeAll(): void {
    for (const response of this.open) response.end();
    this.open.clear();
  }
}
