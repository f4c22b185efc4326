import { accessSync, constants } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { controlPlaneGaps } from "../../config/control-plane-check.ts";
import { formatProblem } from "../../config/load.ts";
import type { RedisRole } from "../../config/redis-credentials.ts";
import { missingSecrets } from "../../config/secrets.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions, secretsEnvironment } from "../site-option.ts";

function roleOption(value: string): RedisRole {
  if (value === "controller" || /^agent:[a-z][a-z0-9-]{0,30}$/.test(value)) return value as RedisRole;
  throw new InvalidArgumentError("controller or agent:NODE");
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export function registerConfigCommands(program: Command, setExit: (code: number) => void): void {
  const config = program.command("config").description("work with the site config");
  config
    .command("check")
    .description("validate a site file: every problem at once, with its line; exit 2 if invalid")
    .argument("[file]", "the site file (default: --config, HARBOR_HA_CONFIG, or the lab's)")
    .option("--json", "print the validated config (with defaults) as JSON")
    .option(
      "--role <role>",
      "check the control-plane Redis login of one role only: controller, or agent:NODE on a node (default: the operations host's, every role)",
      roleOption,
    )
    .action(async (file: string | undefined, options: { json?: boolean; role?: RedisRole }) => {
      const parentConfig = program.opts<{ config?: string }>().config;
      const loaded = await loadSiteFromOptions(file ?? parentConfig);
      if (options.json) {
        console.log(JSON.stringify(loaded.site, null, 2));
      } else {
        const { site } = loaded;
        console.log(
          `${loaded.file}: valid — site ${site.site}, ${site.nodes.length} nodes (${site.nodes.map((n) => `${n.name} ${n.address}`).join(", ")}), VIP ${site.vip.address}/${site.vip.prefix}`,
        );
      }
      for (const warning of loaded.warnings) console.error(`warning: ${formatProblem(warning)}`);
      for (const ref of missingSecrets(loaded.site, process.env)) {
        console.error(`warning: ${ref.envName} (named by ${ref.path}) is not set in this environment`);
      }
      const env = await secretsEnvironment(loaded.file);
      for (const gap of controlPlaneGaps(loaded.site, env, readable, options.role)) {
        console.error(`warning: ${gap.path}: ${gap.message}`);
      }
      setExit(EXIT.ok);
    });
}
