import type { Command } from "commander";
import type { JobOutcome } from "../../jobs/node-jobs.ts";
import { NodeJobs } from "../../jobs/node-jobs.ts";
import { errorMessage } from "../../support/errors.ts";
import { assertRedisReachable } from "../../support/redis.ts";
import { EXIT, formatDuration, formatMs } from "../output.ts";
import { loadSiteFromOptions } from "../site-option.ts";

export function registerNodesCommands(program: Command, setExit: (code: number) => void): void {
  const nodes = program.command("nodes").description("the site's nodes and their agents");
  nodes
    .command("ping")
    .description("send a ping job to every node's agent and print each round trip")
    .option("--json", "print the answers as JSON")
    .option("--wait <ms>", "how long to wait for each agent", "8000")
    .action(async (options: { json?: boolean; wait: string }) => {
      const { site } = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      await assertRedisReachable(site.controlPlane.redisUrl);
      const jobs = new NodeJobs(site);
      try {
        const answers = await Promise.all(
          site.nodes.map(async (node) => {
            try {
              const outcome = await jobs.send(node.name, "ping", { sentAt: Date.now() }, { waitMs: Number(options.wait) });
              return { node: node.name, address: node.address, ok: true as const, outcome };
            } catch (error) {
              return { node: node.name, address: node.address, ok: false as const, error: errorMessage(error) };
            }
          }),
        );
        if (options.json) {
          console.log(JSON.stringify(answers, null, 2));
        } else {
          for (const answer of answers) console.log(formatPingLine(answer));
        }
        setExit(answers.every((answer) => answer.ok) ? EXIT.ok : EXIT.failed);
      } finally {
        await jobs.close();
      }
    });
}

type PingAnswer =
  | { node: string; address: string; ok: true; outcome: JobOutcome<"ping"> }
  | { node: string; address: string; ok: false; error: string };

function formatPingLine(answer: PingAnswer): string {
  const head = `${answer.node.padEnd(8)} ${answer.address.padEnd(15)}`;
  if (!answer.ok) return `${head} FAIL  ${answer.error}`;
  const { result, roundTripMs } = answer.outcome;
  const docker = result.dockerVersion ? `docker ${result.dockerVersion}` : `docker DOWN (${result.dockerError})`;
  return `${head} ok    ${formatMs(roundTripMs).padStart(7)}  host ${result.hostname}  ${docker}  up ${formatDuration(result.hostUptimeSeconds)}  agent pid ${result.agentPid}`;
}
