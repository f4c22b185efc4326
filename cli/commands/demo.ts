import { existsSync } from "node:fs";
import type { Command } from "commander";
import { loadSiteConfig } from "../../config/load.ts";
import { labDown, labPaths, labUp, readEnvFile } from "../../lab/index.ts";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import { EXIT } from "../output.ts";
import { siteInputs } from "../site-option.ts";
import { formatStep, formatUpSummary } from "./lab.ts";
import { formatPingLine, pingNodes } from "./nodes.ts";

/** Agents need a moment after `lab up` starts them; the first ping waits for them. */
const FIRST_PING_WAIT_MS = 20_000;

/**
 * `npm run demo`: the local lab with its agents, a ping through the control plane to every node,
 * then `harbor-ha deploy` of the whole HA stack, run as its own process exactly as an operator
 * would; then the Slack emulator with its channel page and the bot, until Ctrl-C, which stops
 * what the demo started (the lab too, when it was not up before, unless --keep-lab).
 */
export function registerDemoCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description(
      "bring up the local lab, deploy the HA stack on it, run the bot and the Slack emulator's channel page",
    )
    .option("--keep-lab", "leave the lab up on Ctrl-C")
    .option("--emulator-port <port>", "the channel page and Slack's Web API", "3100")
    .option("--bot-port <port>", "the bot's /slack/events (its /metrics: metrics.botListen)", "3000")
    .action(async (options: { keepLab?: boolean; emulatorPort: string; botPort: string }) => {
      const global = program.opts<{ logFormat?: string; logLevel?: string }>();
      const logger = createLogger({
        component: "demo",
        level: global.logLevel ?? "error",
        format: defaultLogFormat(process.stderr, global.logFormat),
        destination: process.stderr,
      });
      console.log(
        "harbor-ha demo: bringing up the local two-node lab (needs root; installs what is missing)",
      );
      const labWasUp = existsSync(labPaths().stateFile);
      const summary = await labUp({ logger, onStep: (event) => console.log(formatStep(event)) });
      console.log(formatUpSummary(summary));
      const loaded = await loadSiteConfig(summary.config);
      const { site } = loaded;
      console.log(`\nharbor-ha nodes ping (through ${summary.redisUrl}):`);
      const inputs = await siteInputs(loaded, { ...(await readEnvFile(summary.env)), ...process.env });
      const answers = await pingNodes(
        site,
        inputs.siteKey,
        inputs.redis,
        site.nodes.map((node) => node.name),
        FIRST_PING_WAIT_MS,
      );
      for (const answer of answers) console.log(formatPingLine(answer));
      if (!answers.every((answer) => answer.ok)) {
        setExit(EXIT.failed);
        return;
      }
      console.log(
        `\nharbor-ha deploy (set -a; . ${summary.env}; set +a; harbor-ha --config ${summary.config} deploy):`,
      );
      const { deployDemo } = await import("./demo-deploy.ts");
      const ok = await deployDemo(summary.config, summary.env);
      if (!ok) {
        setExit(EXIT.failed);
        return;
      }
      const { startDemoChat } = await import("../demo-chat.ts");
      const chat = await startDemoChat({
        site,
        inputs,
        logger,
        emulatorPort: Number(options.emulatorPort),
        botPort: Number(options.botPort),
      });
      console.log(
        [
          "",
          "where to look:",
          `  Harbor through the VIP:  curl http://${site.vip.address}:5000/api/v2.0/health`,
          `  PostgreSQL via the VIP:  psql -h ${site.vip.address} -U postgres   (password: HARBOR_HA_PG_PASSWORD in ${summary.env})`,
          `  again (0 changes):       npx harbor-ha --config ${summary.config} deploy`,
          `  the cluster snapshot:    npx harbor-ha --config ${summary.config} status`,
          "  remove it all:           npx harbor-ha lab down",
          "",
          `the channel page (Slack emulator): ${chat.pageUrl}`,
          `  type /harbor status there; the bot answers at ${chat.botUrl}`,
          ...(chat.metricsUrl ? [`  the bot's metrics:       curl ${chat.metricsUrl}`] : []),
          `Ctrl-C stops the bot and the emulator${labWasUp || options.keepLab ? "" : " and takes the lab down"}.`,
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          // A second Ctrl-C while the lab comes down must not leave half a lab behind.
          if (stopping) console.log("still stopping; the lab is being taken down, one moment");
          stopping = true;
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      console.log("\nstopping the bot and the emulator");
      await chat.stop();
      if (!labWasUp && !options.keepLab) {
        console.log("taking the lab down (it was not up before this demo)");
        await labDown({ logger, onStep: (event) => console.log(formatStep(event)) });
      }
      setExit(EXIT.ok);
    });
}
