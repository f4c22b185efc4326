import { Command, CommanderError } from "commander";
import { registerAgentCommand } from "./commands/agent.ts";
import { registerBotCommand } from "./commands/bot.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerDeployCommand } from "./commands/deploy.ts";
import { registerEmulatorCommand } from "./commands/emulator.ts";
import { registerHistoryCommand } from "./commands/history.ts";
import { registerLabCommands } from "./commands/lab.ts";
import { registerNodesCommands } from "./commands/nodes.ts";
import { registerOperationCommands } from "./commands/operations.ts";
import { registerRedisCommands } from "./commands/redis.ts";
import { registerSiteKeyCommands } from "./commands/site-key.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { EXIT, printError } from "./output.ts";
import { MissingConfigError } from "./site-option.ts";

/** Builds the `harbor-ha` command line. Each command sets the exit code through `setExit`. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("harbor-ha")
    .description("ChatOps control plane for a highly available Harbor registry site")
    .option("-c, --config <file>", "the site config (default: HARBOR_HA_CONFIG, or the local lab's)")
    .option("--log-format <format>", "json or pretty (default: pretty on a terminal, json otherwise)")
    .option("--log-level <level>", "trace, debug, info, warn or error")
    .showHelpAfterError("(run `harbor-ha help` for the commands)")
    .exitOverride();
  registerConfigCommands(program, setExit);
  registerAgentCommand(program);
  registerNodesCommands(program, setExit);
  registerStatusCommand(program, setExit);
  registerBotCommand(program);
  registerHistoryCommand(program, setExit);
  registerRedisCommands(program, setExit);
  registerSiteKeyCommands(program, setExit);
  registerOperationCommands(program, setExit);
  registerDeployCommand(program, setExit);
  registerLabCommands(program, setExit);
  registerDemoCommand(program, setExit);
  registerEmulatorCommand(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; a usage mistake is bad input: nothing was done.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (error instanceof MissingConfigError) {
      console.error(error.message);
      return EXIT.badInput;
    }
    return printError(error);
  }
}
