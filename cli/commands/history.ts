import type { Command } from "commander";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions } from "../site-option.ts";

export function registerHistoryCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("history")
    .description("the audit log: who ran what, when, and the outcome (newest first)")
    .option("-n, --count <n>", "how many entries", "20")
    .option("--json", "print the entries as JSON")
    .action(async (options: { count: string; json?: boolean }) => {
      const count = Number(options.count);
      if (!Number.isInteger(count) || count < 1 || count > 10_000) {
        console.error(`--count must be a whole number from 1 to 10000, not ${options.count}`);
        setExit(EXIT.badInput);
        return;
      }
      const { site } = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { assertRedisReachable, createDurableRedis } = await import("../../support/redis.ts");
      const { AuditLog } = await import("../../jobs/audit-log.ts");
      await assertRedisReachable(site.controlPlane.redisUrl);
      const redis = createDurableRedis(site.controlPlane.redisUrl);
      try {
        const entries = await new AuditLog(redis, site.site, site.audit).recent(count);
        if (options.json) {
          console.log(JSON.stringify(entries, null, 2));
        } else if (entries.length === 0) {
          console.log("the audit log is empty");
        } else {
          for (const entry of entries) {
            const detail = entry.detail ? `  (${entry.detail})` : "";
            console.log(
              `${new Date(entry.at).toISOString()}  ${entry.actor.padEnd(12)} ${entry.action} -> ${entry.outcome}${detail}`,
            );
          }
        }
        setExit(EXIT.ok);
      } finally {
        redis.disconnect();
      }
    });
}
