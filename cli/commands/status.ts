import type { Command } from "commander";
import { resolveRedisCredentials } from "../../config/redis-credentials.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions, secretsEnvironment } from "../site-option.ts";

interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  wait: string;
}

export function registerStatusCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("status")
    .description("the cluster snapshot: VIP holders, PostgreSQL roles and lag, keepalived, Harbor, per node")
    .option("--json", "print the snapshot as JSON")
    .option("--watch", "redraw on every observation until Ctrl-C")
    .option(
      "--wait <ms>",
      "how long to wait for the first observations and the checks through the VIP",
      "1500",
    )
    .action(async (options: StatusOptions) => {
      const global = program.opts<{ config?: string; logLevel?: string }>();
      const loaded = await loadSiteFromOptions(global.config);
      const env = await secretsEnvironment(loaded.file);
      // Heavy imports here, not at the top: every process (agents too) loads the CLI's modules.
      const { showStatus } = await import("../status-runner.ts");
      const overall = await showStatus({
        site: loaded.site,
        redis: resolveRedisCredentials(loaded.site, "controller", env),
        pgPassword: env[loaded.site.postgres.superuser.passwordEnv],
        json: options.json ?? false,
        watch: options.watch ?? false,
        waitMs: Number(options.wait),
        logLevel: global.logLevel ?? "warn",
      });
      setExit(overall === "healthy" ? EXIT.ok : EXIT.failed);
    });
}
