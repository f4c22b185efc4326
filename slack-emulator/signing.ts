import { createHmac } from "node:crypto";

/**
 * Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex HMAC-SHA256 of `v0:${timestamp}:${body}` keyed with the app's signing secret, sent
 * with the timestamp in X-Slack-Request-Timestamp. The body is signed byte for byte as sent.
 */
export function slackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac("sha256", signingSecret).update(`v0:${timestampSeconds}:${body}`).digest("hex");
  return `v0=${digest}`;
}

export interface RetryMark {
  /** 1 for the first retry. */
  readonly num: number;
  readonly reason: string;
}

/** The headers Slack sends with a request to an app, signed now (or at `nowMs`). */
export function signedHeaders(
  signingSecret: string,
  body: string,
  contentType: string,
  nowMs: number,
  retry?: RetryMark,
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1_000);
  const headers: Record<string, string> = {
    "Content-Type": contentType,
    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "X-Slack-Request-Timestamp": String(timestamp),
    "X-Slack-Signature": slackSignature(signingSecret, timestamp, body),
  };
  if (retry) {
    headers["X-Slack-Retry-Num"] = String(retry.num);
    headers["X-Slack-Retry-Reason"] = retry.reason;
  }
  return headers;
}
