import type { Command } from "commander";
import { metricsBearerToken } from "../../config/secrets.ts";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import type { ListenAddress } from "../../support/metrics-server.ts";
import { listenOption } from "../listen-option.ts";
import { loadSiteFromOptions, secretsEnvironment, siteInputs } from "../site-option.ts";

interface BotCommandOptions {
  port: string;
  host: string;
  /** Absent: the site's metrics.botListen. null: off. */
  metricsListen?: ListenAddress | null;
}

export function registerBotCommand(program: Command): void {
  program
    .command("bot")
    .description(
      "run the Slack app: /harbor commands over HTTP (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN), until SIGTERM",
    )
    .option("--port <port>", "HTTP: where POST /slack/events listens", "3000")
    .option("--host <address>", "the address /slack/events listens on", "0.0.0.0")
    .option(
      "--metrics-listen <host:port>",
      "where GET /metrics listens, or off (default: metrics.botListen, 127.0.0.1:9465)",
      listenOption,
    )
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
      const bearer = metricsBearerToken(loaded.site, env);
      if (bearer.missing) {
        logger.error(
          { event: "metrics.token_missing", env: bearer.missing },
          `metrics.bearerTokenEnv names ${bearer.missing}, which is unset: no metrics are served rather than open ones`,
        );
      }
      const { startBot } = await import("../../bot/bot-app.ts");
      const bot = await startBot({
        site: loaded.site,
        slack,
        ...(await siteInputs(loaded, env)),
        logger,
        port: Number(options.port),
        host: options.host,
        ...(bearer.missing
          ? { metricsListen: null }
          : options.metricsListen === undefined
            ? {}
            : { metricsListen: options.metricsListen }),
        ...(bearer.token ? { metricsBearerToken: bearer.token } : {}),
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      logger.info({ event: "bot.stopping" }, "stopping");
      await bot.stop();
    });
}
