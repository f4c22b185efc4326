import type { Command } from "commander";
import { cliActor, underCliDeployLock } from "../cli-deploy-lock.ts";
import { EXIT } from "../output.ts";
import { controllerRedisCredentials, loadSiteFromOptions } from "../site-option.ts";

export function registerSiteKeyCommands(program: Command, setExit: (code: number) => void): void {
  const siteKey = program
    .command("site-key")
    .description("the site key that signs jobs and chains the audit log");
  siteKey
    .command("show")
    .description("print the site key's fingerprint and the previous keys kept for the audit chain")
    .action(async () => {
      const { site } = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { readPreviousSiteKeys, readSiteKey } = await import("../../config/site-key.ts");
      const key = await readSiteKey(site.security.siteKeyFile);
      console.log(`site key ${key.fingerprint} (${site.security.siteKeyFile})`);
      for (const previous of await readPreviousSiteKeys(site.security.siteKeyFile)) {
        console.log(`previous key ${previous.fingerprint}, kept to verify the audit entries chained with it`);
      }
      setExit(EXIT.ok);
    });
  siteKey
    .command("rotate")
    .description(
      "make a new site key, seal Harbor's secrets again with it and chain the rotation into the audit log; stop the bots first, then deploy to copy it to the nodes",
    )
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      const loaded = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { site } = loaded;
      const credentials = await controllerRedisCredentials(loaded);
      const [{ assertControlPlaneReachable, openControlPlaneRedis }, { rotateSiteKey }] = await Promise.all([
        import("../../support/control-plane-redis.ts"),
        import("../../jobs/site-key-rotation.ts"),
      ]);
      await assertControlPlaneReachable(site.controlPlane, credentials);
      const redis = openControlPlaneRedis(site.controlPlane, credentials);
      try {
        // Under the deploy lock: no deploy may read the sealed record between its two keys.
        const result = await underCliDeployLock(
          site.controlPlane,
          credentials,
          site.site,
          "rotate the site key",
          () =>
            rotateSiteKey({
              redis,
              site: site.site,
              siteKeyFile: site.security.siteKeyFile,
              actor: cliActor(),
              retention: site.audit,
            }),
        );
        if (options.json) {
          console.log(JSON.stringify(result));
        } else {
          console.log(`site key rotated: ${result.from} -> ${result.to} (${site.security.siteKeyFile})`);
          console.log(
            result.harborSecrets === "resealed"
              ? "  Harbor's shared secrets sealed again with the new key"
              : "  no Harbor secrets stored yet: nothing to seal again",
          );
          console.log(`  the old key kept in ${result.previousFile} (history --verify reads it)`);
          console.log(`  audit entry ${result.auditId}: ${cliActor()} site-key.rotated`);
          console.log("next: harbor-ha deploy (its host.agent step copies the new key to every node;");
          console.log("      running agents take it up by themselves), then start the bots again");
        }
        setExit(EXIT.ok);
      } finally {
        redis.disconnect();
      }
    });
}
