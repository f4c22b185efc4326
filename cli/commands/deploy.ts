import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { resolveRedisCredentials } from "../../config/redis-credentials.ts";
import { resolveSecrets } from "../../config/secrets.ts";
import { ensureSiteKey, readSiteKey } from "../../config/site-key.ts";
import type { DeployEvent } from "../../jobs/deploy/run-plan.ts";
import { assertControlPlaneReachable } from "../../support/control-plane-redis.ts";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import { underCliDeployLock } from "../cli-deploy-lock.ts";
import { progressLines } from "../deploy-progress.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions, secretsEnvironment, secretsEnvOf } from "../site-option.ts";

interface DeployCommandOptions {
  dryRun?: boolean;
  harborVersion?: string;
  json?: boolean;
  recordHostKeys?: boolean;
}

export function registerDeployCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("deploy")
    .description(
      "install (or check) the HA stack on the site's nodes, step by step; a second run makes 0 changes",
    )
    .option("--dry-run", "check every step and print what would change; change nothing")
    .option(
      "--harbor-version <version>",
      "install or upgrade Harbor to this version, one node at a time",
      (value) => {
        if (!/^\d+\.\d+\.\d+$/.test(value)) throw new InvalidArgumentError("a version such as 2.2.2");
        return value;
      },
    )
    .option("--json", "print the progress events as JSON lines")
    .option(
      "--record-host-keys",
      "first deploy: print each node's SSH host key fingerprint and write the ones nothing pins yet to its ssh.knownHostsFile (a key that differs from its pin is still refused)",
    )
    .action(async (options: DeployCommandOptions) => {
      const global = program.opts<{ config?: string; logFormat?: string; logLevel?: string }>();
      const loaded = await loadSiteFromOptions(global.config);
      const { site } = loaded;
      const secrets = resolveSecrets(site, process.env);
      const credentials = resolveRedisCredentials(site, "controller", await secretsEnvironment(loaded.file));
      await assertControlPlaneReachable(site.controlPlane, credentials);
      const logger = createLogger({
        component: "deploy",
        level: global.logLevel ?? "warn",
        format: defaultLogFormat(process.stderr, global.logFormat),
        destination: process.stderr,
      });
      const print = (event: DeployEvent) => {
        if (options.json) console.log(JSON.stringify(event));
        else for (const line of progressLines(event)) console.log(line);
      };
      if (options.recordHostKeys) {
        const { assertAllPinned, formatSighting, surveyHostKeys } = await import(
          "../../jobs/adapters/ssh-host-key-survey.ts"
        );
        // Trust on first use only when asked for, and never in a dry run (which writes nothing).
        const sightings = await surveyHostKeys(site, !options.dryRun);
        for (const sighting of sightings) {
          console.log(options.json ? JSON.stringify({ hostKey: sighting }) : formatSighting(sighting));
        }
        assertAllPinned(sightings, options.dryRun ?? false);
      }
      // The first deploy makes the key here; host.agent copies it to each node at the same path.
      const keyFile = site.security.siteKeyFile;
      let siteKey: Awaited<ReturnType<typeof readSiteKey>>;
      if (options.dryRun) {
        siteKey = await readSiteKey(keyFile);
      } else {
        const ensured = await ensureSiteKey(keyFile);
        siteKey = ensured.key;
        if (ensured.created) {
          const said = `made the site key ${keyFile} (fingerprint ${siteKey.fingerprint}); deploy installs it on every node`;
          if (options.json) console.error(said);
          else console.log(said);
        }
      }
      const { runDeploy } = await import("../../jobs/deploy/run-deploy.ts");
      const deploy = async () =>
        runDeploy({
          site,
          secrets,
          configText: await readFile(loaded.file, "utf8"),
          secretsEnv: secretsEnvOf(site, process.env),
          siteKey,
          redis: credentials,
          dryRun: options.dryRun ?? false,
          ...(options.harborVersion ? { harborVersion: options.harborVersion } : {}),
          logger,
          onEvent: print,
        });
      // A dry run changes nothing: it needs no lock. A deploy takes the one the Slack deploy and
      // the controller honour, so it never restarts services under another deploy or a failover.
      const { summary } = options.dryRun
        ? await deploy()
        : await underCliDeployLock(site.controlPlane, credentials, site.site, "deploy from the CLI", deploy);
      setExit(summary.failed ? EXIT.failed : EXIT.ok);
    });
}
