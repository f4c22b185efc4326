import { userInfo } from "node:os";
import type { Command } from "commander";
import { EXIT } from "../output.ts";
import { controllerRedisCredentials, loadSiteFromOptions } from "../site-option.ts";

interface OperationOptions {
  node?: string;
  reclone?: boolean;
  dryRun?: boolean;
  wait: string;
}

/**
 * `harbor-ha switchover|failover|rejoin`: the same operations as in Slack. Only the active
 * controller (inside `harbor-ha bot`) acts on the cluster, so the command is handed to it as a
 * job on the controller's queue and its answer printed here.
 */
export function registerOperationCommands(program: Command, setExit: (code: number) => void): void {
  const define = (verb: "switchover" | "failover" | "rejoin", description: string) => {
    const command = program.command(verb).description(description);
    if (verb === "rejoin")
      command.argument("<node>", "the node to rejoin").option("--reclone", "may re-clone after approval");
    else command.option("--node <name>", "the standby to promote (default: the one there is)");
    command
      .option("--dry-run", "print the plan; change nothing")
      .option("--wait <ms>", "how long to wait for the controller's answer", "300000")
      .action(async (...args: unknown[]) => {
        const options = (verb === "rejoin" ? args[1] : args[0]) as OperationOptions;
        const node = verb === "rejoin" ? (args[0] as string) : options.node;
        const loaded = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
        const { askController } = await import("../controller-request.ts");
        const { readSiteKey } = await import("../../config/site-key.ts");
        const outcome = await askController(
          loaded.site,
          await readSiteKey(loaded.site.security.siteKeyFile),
          await controllerRedisCredentials(loaded),
          {
            verb,
            ...(node ? { node } : {}),
            reclone: options.reclone ?? false,
            dryRun: options.dryRun ?? false,
            actor: `cli:${userInfo().username}`,
          },
          Number(options.wait),
        );
        console.log(outcome.text);
        setExit(outcome.ok ? EXIT.ok : EXIT.failed);
      });
  };
  define("switchover", "planned switchover with no lost write: the standby catches up, then is promoted");
  define("failover", "forced promotion of the standby: asks for approval in Slack, saying what it may lose");
  define("rejoin", "an old primary back as a standby of the primary (pg_rewind)");
}
