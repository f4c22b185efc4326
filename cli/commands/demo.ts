import type { Command } from "commander";
import { loadSiteConfig } from "../../config/load.ts";
import { labUp } from "../../lab/index.ts";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import { EXIT } from "../output.ts";
import { formatStep, formatUpSummary } from "./lab.ts";
import { formatPingLine, pingNodes } from "./nodes.ts";

/** Agents need a moment after `lab up` starts them; the first ping waits for them. */
const FIRST_PING_WAIT_MS = 20_000;

/**
 * `npm run demo`: the local lab with its agents, a ping through the control plane to every node,
 * then `harbor-ha deploy` of the whole HA stack, run as its own process exactly as an operator
 * would. Later issues add the bot and the Slack emulator.
 */
export function registerDemoCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("bring up the local lab, ping every agent, deploy the HA stack on it")
    .action(async () => {
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
      const summary = await labUp({ logger, onStep: (event) => console.log(formatStep(event)) });
      console.log(formatUpSummary(summary));
      const { site } = await loadSiteConfig(summary.config);
      console.log(`\nharbor-ha nodes ping (through ${summary.redisUrl}):`);
      const answers = await pingNodes(
        site,
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
      console.log(
        [
          "",
          "where to look:",
          `  Harbor through the VIP:  curl http://${site.vip.address}:5000/api/v2.0/health`,
          `  PostgreSQL via the VIP:  psql -h ${site.vip.address} -U postgres   (password: HARBOR_HA_PG_PASSWORD in ${summary.env})`,
          `  again (0 changes):       npx harbor-ha --config ${summary.config} deploy`,
          "  remove it all:           npx harbor-ha lab down",
        ].join("\n"),
      );
      setExit(ok ? EXIT.ok : EXIT.failed);
    });
}
