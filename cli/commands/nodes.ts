import type { Command } from "commander";
import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { readSiteKey, type SiteKey } from "../../config/site-key.ts";
import type { JobOutcome } from "../../jobs/node-jobs.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { assertControlPlaneReachable } from "../../support/control-plane-redis.ts";
import { errorMessage } from "../../support/errors.ts";
import { EXIT, formatDuration, formatMs } from "../output.ts";
import { controllerRedisCredentials, loadSiteFromOptions } from "../site-option.ts";

export function registerNodesCommands(program: Command, setExit: (code: number) => void): void {
  const nodes = program.command("nodes").description("the site's nodes and their agents");
  nodes
    .command("ping")
    .description("send a ping job to every node's agent and print each round trip")
    .option("--node <name>", "ping only this node")
    .option("--json", "print the answers as JSON")
    .option("--wait <ms>", "how long to wait for each agent", "8000")
    .action(async (options: { json?: boolean; wait: string; node?: string }) => {
      const loaded = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { site } = loaded;
      const names = options.node ? [options.node] : site.nodes.map((node) => node.name);
      const siteKey = await readSiteKey(site.security.siteKeyFile);
      const credentials = await controllerRedisCredentials(loaded);
      const answers = await pingNodes(site, siteKey, credentials, names, Number(options.wait));
      if (options.json) {
        console.log(JSON.stringify(answers, null, 2));
      } else {
        for (const answer of answers) console.log(formatPingLine(answer));
      }
      setExit(answers.every((answer) => answer.ok) ? EXIT.ok : EXIT.failed);
    });
  nodes
    .command("host-keys")
    .description(
      "print each node's SSH host key fingerprint as its sshd presents it, and whether it matches its pin (trusts nothing, writes nothing)",
    )
    .option("--json", "print the sightings as JSON")
    .action(async (options: { json?: boolean }) => {
      const { site } = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const { formatSighting, surveyHostKeys } = await import("../../jobs/adapters/ssh-host-key-survey.ts");
      const sightings = await surveyHostKeys(site, false);
      if (options.json) console.log(JSON.stringify(sightings, null, 2));
      else for (const sighting of sightings) console.log(formatSighting(sighting));
      setExit(sightings.every((sighting) => sighting.status === "pinned") ? EXIT.ok : EXIT.failed);
    });
}

/** Pings nodes' agents at once; a silent node is an answer (ok: false), not an exception. */
export async function pingNodes(
  site: SiteConfig,
  siteKey: SiteKey,
  credentials: RedisCredentials,
  names: readonly string[],
  waitMs: number,
): Promise<PingAnswer[]> {
  await assertControlPlaneReachable(site.controlPlane, credentials);
  const jobs = new NodeJobs(site, siteKey, credentials);
  try {
    return await Promise.all(
      names.map(async (name): Promise<PingAnswer> => {
        const address = site.nodes.find((node) => node.name === name)?.address ?? "?";
        try {
          const outcome = await jobs.send(name, "ping", { sentAt: Date.now() }, { waitMs });
          return { node: name, address, ok: true, outcome };
        } catch (error) {
          return { node: name, address, ok: false, error: errorMessage(error) };
        }
      }),
    );
  } finally {
    await jobs.close();
  }
}

export type PingAnswer =
  | { node: string; address: string; ok: true; outcome: JobOutcome<"ping"> }
  | { node: string; address: string; ok: false; error: string };

export function formatPingLine(answer: PingAnswer): string {
  const head = `${answer.node.padEnd(8)} ${answer.address.padEnd(15)}`;
  if (!answer.ok) return `${head} FAIL  ${answer.error}`;
  const { result, roundTripMs } = answer.outcome;
  const docker = result.dockerVersion
    ? `docker ${result.dockerVersion}`
    : `docker DOWN (${result.dockerError})`;
  return `${head} ok    ${formatMs(roundTripMs).padStart(7)}  host ${result.hostname}  ${docker}  up ${formatDuration(result.hostUptimeSeconds)}  agent pid ${result.agentPid}`;
}
