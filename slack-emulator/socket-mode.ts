import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { RetryMark } from "./signing.ts";

export const SOCKET_PATH = "/emulator/socket";

export interface SocketAck {
  readonly acked: boolean;
  /** The ack's payload (`{}` when the app acked without one). */
  readonly payload: Record<string, unknown> | undefined;
  readonly latencyMs: number;
}

export interface SocketModeHubOptions {
  readonly appId: string;
  readonly pingIntervalMs: number;
  readonly ackTimeoutMs: number;
  readonly now: () => number;
}

interface Pending {
  /** The ack's payload, or undefined when none came in time (or the emulator closed). */
  readonly settle: (payload: Record<string, unknown> | undefined) => void;
}

/**
 * Slack's Socket Mode server as @slack/socket-mode 3.x expects it: apps.connections.open hands out
 * a URL with a one-time ticket; on connect the server sends `hello`; requests go out as envelopes
 * `{envelope_id, type, payload, accepts_response_payload}` and the app acks with
 * `{envelope_id, payload}`. The server pings every connection regularly: the client counts its
 * serverPingTimeout from the last ping it saw and reconnects when none comes.
 */
export class SocketModeHub {
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, number>();
  private readonly sockets: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly watchers = new Set<() => void>();
  private next = 0;

  constructor(private readonly options: SocketModeHubOptions) {}

  /** A URL for one connection, valid for a minute: apps.connections.open's answer. */
  openUrl(origin: string): string {
    const ticket = randomBytes(16).toString("hex");
    this.tickets.set(ticket, this.options.now() + 60_000);
    const wsOrigin = origin.replace(/^http/, "ws");
    return `${wsOrigin}${SOCKET_PATH}?ticket=${ticket}&app_id=${this.options.appId}`;
  }

  get connectionCount(): number {
    return this.sockets.length;
  }

  /** Takes an HTTP upgrade on the socket path; false if the request is not ours. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? "/", "http://emulator");
    if (url.pathname !== SOCKET_PATH) return false;
    const ticket = url.searchParams.get("ticket") ?? "";
    const expiresAt = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (expiresAt === undefined || expiresAt < this.options.now()) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return true;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
    return true;
  }

  private accept(ws: WebSocket): void {
    this.sockets.push(ws);
    const ping =
      this.options.pingIntervalMs > 0
        ? setInterval(() => ws.ping(Buffer.from(`ping ${this.options.now()}`)), this.options.pingIntervalMs)
        : undefined;
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      this.onAck(data.toString());
    });
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      clearInterval(ping);
      const index = this.sockets.indexOf(ws);
      if (index >= 0) this.sockets.splice(index, 1);
      this.notify();
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.sockets.length,
        debug_info: { host: "harbor-emulator", build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: this.options.appId },
      }),
    );
    this.notify();
  }

  private onAck(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const { envelope_id: envelopeId, payload } = message as { envelope_id?: unknown; payload?: unknown };
    if (typeof envelopeId !== "string") return;
    const pending = this.pending.get(envelopeId);
    if (!pending) return;
    this.pending.delete(envelopeId);
    pending.settle(
      typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {},
    );
  }

  /** Sends one envelope to a connected app (round robin, as Slack spreads them) and waits for its ack. */
  async send(type: string, payload: Record<string, unknown>, retry?: RetryMark): Promise<SocketAck> {
    const ws = this.sockets[this.next++ % Math.max(1, this.sockets.length)];
    if (!ws) throw new Error("no Socket Mode client is connected");
    const envelopeId = randomUUID();
    const started = performance.now();
    const acked = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const settle = (ackPayload: Record<string, unknown> | undefined) => {
        clearTimeout(timer);
        this.pending.delete(envelopeId);
        resolve(ackPayload);
      };
      const timer = setTimeout(() => settle(undefined), this.options.ackTimeoutMs);
      this.pending.set(envelopeId, { settle });
    });
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: true,
        ...(retry ? { retry_attempt: retry.num, retry_reason: retry.reason } : {}),
      }),
    );
    const ackPayload = await acked;
    return { acked: ackPayload !== undefined, payload: ackPayload, latencyMs: performance.now() - started };
  }

  /** Asks every app to reconnect, as Slack does before it recycles a server. */
  requestReconnect(reason = "refresh_requested"): void {
    for (const ws of this.sockets) {
      ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "harbor-emulator" } }));
    }
  }

  /** Resolves once at least `count` apps are connected. */
  async waitForConnections(count: number, timeoutMs: number): Promise<void> {
    if (this.sockets.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(
          new Error(
            `no ${count} Socket Mode connection(s) within ${timeoutMs} ms (have ${this.sockets.length})`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (this.sockets.length < count) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
    });
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  async close(): Promise<void> {
    for (const pending of [...this.pending.values()]) pending.settle(undefined);
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
