import { randomBytes } from "node:crypto";
import type { SiteConfig } from "../config/schema.ts";
import type { Logger } from "../support/logger.ts";
import type { SiteInputs } from "./site-option.ts";

export interface DemoChat {
  readonly pageUrl: string;
  readonly botUrl: string;
  /** The bot's GET /metrics, when it listens (metrics.botListen). */
  readonly metricsUrl: string | undefined;
  stop(): Promise<void>;
}

export interface DemoChatOptions {
  readonly site: SiteConfig;
  readonly inputs: SiteInputs;
  readonly logger: Logger;
  readonly emulatorPort: number;
  readonly botPort: number;
}

/**
 * The chat half of the demo: the Slack emulator with its channel page, and the bot talking to
 * it over HTTP with a signing secret made for this run only. Both listen on loopback.
 */
export async function startDemoChat(options: DemoChatOptions): Promise<DemoChat> {
  const { startEmulator } = await import("../slack-emulator/server.ts");
  const { startBot } = await import("../bot/bot-app.ts");
  const signingSecret = randomBytes(24).toString("hex");
  const botToken = `xoxb-demo-${randomBytes(8).toString("hex")}`;
  const botUrl = `http://127.0.0.1:${options.botPort}/slack/events`;
  const emulator = await startEmulator({
    port: options.emulatorPort,
    host: "127.0.0.1",
    botUrl,
    signingSecret,
    botToken,
    channel: options.site.slack.alertChannel,
  });
  try {
    const bot = await startBot({
      site: options.site,
      slack: { botToken, signingSecret, apiUrl: emulator.apiUrl },
      ...options.inputs,
      logger: options.logger,
      port: options.botPort,
      host: "127.0.0.1",
    });
    return {
      pageUrl: `${emulator.url}/`,
      botUrl,
      metricsUrl: bot.metricsUrl,
      async stop() {
        await bot.stop();
        await emulator.close();
      },
    };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}
