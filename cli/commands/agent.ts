import type { Command } from "commander";
import { agentRole, resolveRedisCredentials } from "../../config/redis-credentials.ts";
import { metricsBearerToken, resolveSecrets } from "../../config/secrets.ts";
import { readSiteKey } from "../../config/site-key.ts";
import { GRACEFUL_STOP_MS, startAgent } from "../../jobs/agent.ts";
import { HarborHaError } from "../../support/errors.ts";
import { createLogger, defaultLogFormat } from "../../support/logger.ts";
import type { ListenAddress } from "../../support/metrics-server.ts";
import { listenOption } from "../listen-option.ts";
import { loadSiteFromOptions } from "../site-option.ts";

interface AgentCommandOptions {
  node: string;
  /** Absent: the site's agent.metricsPort on the node's address. null: off. */
  metricsListen?: ListenAddress | null;
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the agent of one node: consume its queue of jobs until SIGTERM")
    .requiredOption("--node <name>", "the node this agent acts for (a name from the site config)")
    .option(
      "--metrics-listen <host:port>",
      "where GET /metrics listens, or off (default: the node's address and agent.metricsPort)",
      listenOption,
    )
    .action(async (options: AgentCommandOptions) => {
      const global = program.opts<{ config?: string; logFormat?: string; logLevel?: string }>();
      const { site } = await loadSiteFromOptions(global.config);
      const node = site.nodes.find((candidate) => candidate.name === options.node);
      if (!node) {
        throw new HarborHaError("NODE_UNKNOWN", `no node named ${options.node} in site ${site.site}`, {
          action: "start the agent",
          hint: `pass one of: ${site.nodes.map((n) => n.name).join(", ")}`,
        });
      }
      const logger = createLogger({
        component: "agent",
        node: node.name,
        format: defaultLogFormat(process.stdout, global.logFormat ?? process.env.HARBOR_HA_LOG_FORMAT),
        level: global.logLevel ?? process.env.HARBOR_HA_LOG_LEVEL ?? "info",
      });
      // Read once here: executors get them passed in and never look at the environment.
      const secrets = resolveSecrets(site, process.env);
      // Without the key no job can be verified: refuse to start rather than refuse every job.
      const siteKey = await readSiteKey(site.security.siteKeyFile);
      // Only this node's agent password: its secrets file holds no other role's.
      const redis = resolveRedisCredentials(site, agentRole(node.name), process.env);
      const metricsListen =
        options.metricsListen === undefined
          ? site.agent.metricsPort === 0
            ? undefined
            : { host: node.address, port: site.agent.metricsPort }
          : (options.metricsListen ?? undefined);
      // The node's own address (its private network) by default, never 0.0.0.0.
      const bearer = metricsBearerToken(site, process.env);
      if (bearer.missing && metricsListen) {
        logger.error(
          { event: "metrics.token_missing", env: bearer.missing },
          `metrics.bearerTokenEnv names ${bearer.missing}, which is unset: no metrics are served rather than open ones`,
        );
      }
      const agent = await startAgent({
        site,
        node,
        secrets,
        siteKey,
        redis,
        logger,
        metricsListen: bearer.missing ? undefined : metricsListen,
        metricsBearerToken: bearer.token,
        // Exit code 70 (EX_SOFTWARE) at once: the supervisor starts a fresh agent, and the
        // wedged job's lock expires; BullMQ hands it back only if it is safe to run again.
        onWedged: () => process.exit(70),
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            // A second signal: do not wait any longer; the job in flight goes back to the queue.
            logger.warn({ event: "agent.signal", signal }, "second signal: stopping at once");
            void agent.abandon().then(resolve);
            return;
          }
          stopping = true;
          logger.info({ event: "agent.signal", signal }, "finishing the current job, then stopping");
          const force = setTimeout(() => void agent.abandon().then(resolve), GRACEFUL_STOP_MS);
          void agent.close().then(() => {
            clearTimeout(force);
            resolve();
          });
        };
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
      });
    });
}
