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
 * `npm run demo`: the local lab with its agents, then a ping through the control plane to every
 * node. Later issues grow it into the full demo (deploy, bot, emulator).
 */
export function registerDemoCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("bring up the local lab with its agents and ping every node through Redis")
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
      console.log(
        "\nnext: `npx harbor-ha lab status`, `npx harbor-ha nodes ping`, and `npx harbor-ha lab down` to remove it all",
      );
      setExit(answers.every((answer) => answer.ok) ? EXIT.ok : EXIT.failed);
    });
}
