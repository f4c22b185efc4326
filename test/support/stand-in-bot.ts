import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import bolt from "@slack/bolt";

/** One request the stand-in bot received, after it checked the signature as Bolt does. */
export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The form's fields (a slash command), or the parsed `payload` field (an interaction). */
  readonly fields: Record<string, string>;
  readonly payload: Record<string, unknown> | undefined;
  /** Why Bolt's verifySlackRequest refused it, if it did. */
  readonly refused: string | undefined;
}

export interface BotAnswer {
  readonly status?: number;
  readonly body?: string | Record<string, unknown>;
  readonly delayMs?: number;
}

export interface StandInBot {
  readonly url: string;
  readonly received: ReceivedRequest[];
  answer: (request: ReceivedRequest) => BotAnswer;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server in place of the Bolt app: it verifies each request's signature with Bolt's
 * own `verifySlackRequest` (401 when it fails, as Bolt answers), records it, and answers what
 * the test says.
 */
export async function startStandInBot(signingSecret: string): Promise<StandInBot> {
  const received: ReceivedRequest[] = [];
  const bot: StandInBot = {
    url: "",
    received,
    answer: () => ({}),
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let refused: string | undefined;
      try {
        bolt.verifySlackRequest({
          signingSecret,
          body: rawBody,
          headers: {
            "x-slack-request-timestamp": Number(request.headers["x-slack-request-timestamp"]),
            "x-slack-signature": String(request.headers["x-slack-signature"] ?? ""),
          },
        });
      } catch (error) {
        refused = error instanceof Error ? error.message : String(error);
      }
      const fields = Object.fromEntries(new URLSearchParams(rawBody));
      const payload = fields.payload ? (JSON.parse(fields.payload) as Record<string, unknown>) : undefined;
      const entry: ReceivedRequest = { headers: request.headers, rawBody, fields, payload, refused };
      received.push(entry);
      if (refused) {
        response.writeHead(401).end();
        return;
      }
      const answer = bot.answer(entry);
      setTimeout(() => {
        if (response.destroyed) return;
        const body =
          answer.body === undefined
            ? ""
            : typeof answer.body === "string"
              ? answer.body
              : JSON.stringify(answer.body);
        response.writeHead(
          answer.status ?? 200,
          typeof answer.body === "object" ? { "Content-Type": "application/json" } : {},
        );
        response.end(body);
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(bot, {
    url: `http://127.0.0.1:${port}/slack/events`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
