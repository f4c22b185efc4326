import type { IncomingMessage, ServerResponse } from "node:http";

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyError extends Error {
  override readonly name = "BodyError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyError("request body over 4 MB", 413);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A request's fields: WebClient posts a form (complex values JSON-encoded in strings), others
 * post JSON; both are accepted, and a form's `payload` field is taken as JSON as Slack's own is.
 */
export function parseFields(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw.trim() === "") return {};
  if (contentType?.includes("application/json") || (!contentType && raw.trim().startsWith("{"))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new BodyError("the body is not valid JSON", 400);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new BodyError("the body must be a JSON object", 400);
    }
    return parsed as Record<string, unknown>;
  }
  const fields: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  if (typeof fields.payload === "string") {
    try {
      return JSON.parse(fields.payload) as Record<string, unknown>;
    } catch {
      throw new BodyError("the payload field is not valid JSON", 400);
    }
  }
  return fields;
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  response.end(text);
}

export function sendText(response: ServerResponse, status: number, contentType: string, text: string): void {
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  response.end(text);
}

/** The token of a Web API call: `Authorization: Bearer`, else a `token` field as older clients send. */
export function bearerToken(request: IncomingMessage, fields: Record<string, unknown>): string | undefined {
  const match = request.headers.authorization?.match(/^\s*Bearer\s+(\S+)\s*$/i);
  if (match?.[1]) return match[1];
  return typeof fields.token === "string" && fields.token !== "" ? fields.token : undefined;
}
