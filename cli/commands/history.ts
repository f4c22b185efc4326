import type { Command } from "commander";
import type { SiteConfig } from "../../config/schema.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions } from "../site-option.ts";

interface HistoryOptions {
  count: string;
  json?: boolean;
  verify?: boolean;
}

/** `--verify`: walks the whole chain; 0 when it is whole, 1 when it breaks (each break printed). */
async function verifyChain(site: SiteConfig, json: boolean): Promise<number> {
  const [{ readSiteKey }, { createDurableRedis }, { AuditLog }, { describeChain }] = await Promise.all([
    import("../../config/site-key.ts"),
    import("../../support/redis.ts"),
    import("../../jobs/audit-log.ts"),
    import("../../jobs/audit-chain.ts"),
  ]);
  const siteKey = await readSiteKey(site.security.siteKeyFile);
  const redis = createDurableRedis(site.controlPlane.redisUrl);
  try {
    const report = await new AuditLog(redis, site.site, siteKey, site.audit).verify();
    if (json) console.log(JSON.stringify(report, null, 2));
    else for (const line of describeChain(site.site, report)) console.log(line);
    return report.breaks.length === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    redis.disconnect();
  }
}

export function registerHistoryCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("history")
    .description("the audit log: who ran what, when, and the outcome (newest first)")
    .option("-n, --count <n>", "how many entries", "20")
    .option("--json", "print the entries (or, with --verify, the chain's report) as JSON")
    .option(
      "--verify",
      "check the whole log's hash chain with the site key: exit 0 when whole, 1 with each break",
    )
    .action(async (options: HistoryOptions) => {
      const count = Number(options.count);
      if (!Number.isInteger(count) || count < 1 || count > 10_000) {
        console.error(`--count must be a whole number from 1 to 10000, not ${options.count}`);
        setExit(EXIT.badInput);
        return;
      }
      const { site } = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { assertRedisReachable, createDurableRedis } = await import("../../support/redis.ts");
      await assertRedisReachable(site.controlPlane.redisUrl);
      if (options.verify) {
        setExit(await verifyChain(site, options.json ?? false));
        return;
      }
      const { recentAuditEntries } = await import("../../jobs/audit-log.ts");
      const redis = createDurableRedis(site.controlPlane.redisUrl);
      try {
        const entries = await recentAuditEntries(redis, site.site, count);
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
