import { HarborHaError } from "../support/errors.ts";
import type { SlackConnection } from "./bot-app.ts";

/**
 * The Slack settings from the environment (read at the entry point only): SLACK_BOT_TOKEN, and
 * SLACK_SIGNING_SECRET for HTTP or SLACK_APP_TOKEN for Socket Mode; SLACK_API_URL points the
 * Web API elsewhere (the emulator). Every problem is named at once; nothing starts on a bad set.
 */
export function slackConnectionFrom(env: Readonly<Record<string, string | undefined>>): SlackConnection {
  const problems: string[] = [];
  const botToken = env.SLACK_BOT_TOKEN ?? "";
  if (!botToken) problems.push("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)");
  const appToken = env.SLACK_APP_TOKEN || undefined;
  const signingSecret = env.SLACK_SIGNING_SECRET || undefined;
  if (appToken !== undefined && !appToken.startsWith("xapp-")) {
    problems.push("SLACK_APP_TOKEN must be an app-level token (xapp-...)");
  }
  if (appToken === undefined && signingSecret === undefined) {
    problems.push("set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)");
  }
  const apiUrl = env.SLACK_API_URL || undefined;
  if (apiUrl !== undefined && !/^https?:\/\/[^\s]+\/$/.test(apiUrl)) {
    problems.push(
      `SLACK_API_URL must be an http(s) URL ending in "/", such as http://127.0.0.1:3100/api/ (got ${apiUrl})`,
    );
  }
  if (problems.length > 0) {
    throw new HarborHaError("SLACK_SETTINGS_INVALID", problems.join("; "), {
      action: "start the Slack bot",
      hint: "for the local emulator, `npm run demo` sets these; for real Slack, copy them from your app's settings page",
      context: { problems },
    });
  }
  return {
    botToken,
    ...(signingSecret ? { signingSecret } : {}),
    ...(appToken ? { appToken } : {}),
    ...(apiUrl ? { apiUrl } : {}),
  };
}
