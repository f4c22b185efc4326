import type { Command } from "commander";
import type { Redis } from "ioredis";
import type { SiteConfig } from "../../config/schema.ts";
import { EXIT } from "../output.ts";
import { controllerRedisCredentials, loadSiteFromOptions } from "../site-option.ts";

interface HistoryOptions {
  count: string;
  json?: boolean;
  verify?: boolean;
}

/** `--verify`: walks the whole chain; 0 when it is whole, 1 when it breaks (each break printed). */
async function verifyChain(site: SiteConfig, redis: Redis, json: boolean): Promise<number> {
  const [{ readPreviousSiteKeys, readSiteKey }, { AuditLog }, { describeChain }] = await Promise.all([
    import("../../config/site-key.ts"),
    import("../../jobs/audit-log.ts"),
    import("../../jobs/audit-chain.ts"),
  ]);
  const siteKey = await readSiteKey(site.security.siteKeyFile);
  const previous = await readPreviousSiteKeys(site.security.siteKeyFile);
  const report = await new AuditLog(redis, site.site, siteKey, site.audit).verify(previous);
  if (json) console.log(JSON.stringify(report, null, 2));
  else for (const line of describeChain(site.site, report)) console.log(line);
  return report.breaks.length === 0 ? EXIT.ok : EXIT.failed;
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
      const loaded = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { site } = loaded;
      const credentials = await controllerRedisCredentials(loaded);
      const { assertControlPlaneReachable, openControlPlaneRedis } = await import(
        "../../support/control-plane-redis.ts"
      );
      await assertControlPlaneReachable(site.controlPlane, credentials);
      const redis = openControlPlaneRedis(site.controlPlane, credentials);
      if (options.verify) {
        try {
          setExit(await verifyChain(site, redis, options.json ?? false));
        } finally {
          redis.disconnect();
        }
        return;
      }
      const { recentAuditEntries } = await import("../../jobs/audit-log.ts");
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
