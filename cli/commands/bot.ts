import type { Command } from "commander";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import { loadSiteFromOptions, secretsEnvironment, siteInputs } from "../site-option.ts";

interface BotCommandOptions {
  port: string;
  host: string;
}

export function registerBotCommand(program: Command): void {
  program
    .command("bot")
    .description(
      "run the Slack app: /harbor commands over HTTP (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN), until SIGTERM",
    )
    .option("--port <port>", "HTTP: POST /slack/events and GET /metrics; Socket Mode: GET /metrics", "3000")
    .option("--host <address>", "the address to listen on", "0.0.0.0")
    .action(async (options: BotCommandOptions) => {
      const global = program.opts<{ config?: string; logFormat?: string; logLevel?: string }>();
      const loaded = await loadSiteFromOptions(global.config);
      const env = await secretsEnvironment(loaded.file);
      const { slackConnectionFrom } = await import("../../bot/slack-connection.ts");
      const slack = slackConnectionFrom(process.env);
      const logger = createLogger({
        component: "bot",
        format: defaultLogFormat(process.stdout, global.logFormat ?? process.env.HARBOR_HA_LOG_FORMAT),
        level: global.logLevel ?? process.env.HARBOR_HA_LOG_LEVEL ?? "info",
      });
      const { startBot } = await import("../../bot/bot-app.ts");
      const bot = await startBot({
        site: loaded.site,
        slack,
        ...(await siteInputs(loaded, env)),
        logger,
        port: Number(options.port),
        host: options.host,
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      logger.info({ event: "bot.stopping" }, "stopping");
      await bot.stop();
    });
}
