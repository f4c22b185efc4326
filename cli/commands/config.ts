import type { Command } from "commander";
import { formatProblem } from "../../config/load.ts";
import { missingSecrets } from "../../config/secrets.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions } from "../site-option.ts";

export function registerConfigCommands(program: Command, setExit: (code: number) => void): void {
  const config = program.command("config").description("work with the site config");
  config
    .command("check")
    .description("validate a site file: every problem at once, with its line; exit 2 if invalid")
    .argument("[file]", "the site file (default: --config, HARBOR_HA_CONFIG, or the lab's)")
    .option("--json", "print the validated config (with defaults) as JSON")
    .action(async (file: string | undefined, options: { json?: boolean }) => {
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
      setExit(EXIT.ok);
    });
}
