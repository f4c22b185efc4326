import bolt from "@slack/bolt";
import { Queue } from "bullmq";
import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import type { SiteSecrets } from "../config/secrets.ts";
import type { SiteKey } from "../config/site-key.ts";
import { AuditLog } from "../jobs/audit-log.ts";
import { Controller } from "../jobs/controller/controller.ts";
import { SnapshotStore } from "../jobs/controller/snapshot-store.ts";
import { deployLock as siteDeployLock } from "../jobs/deploy/deploy-lock.ts";
import { NodeJobs } from "../jobs/node-jobs.ts";
import { nodeQueueName, queuePrefix } from "../jobs/queue-names.ts";
import { openControlPlaneRedis } from "../support/control-plane-redis.ts";
import { errorMessage } from "../support/errors.ts";
import type { Logger } from "../support/logger.ts";
import {
  formatListenAddress,
  type ListenAddress,
  type MetricsServer,
  parseListenAddress,
  startMetricsServer,
} from "../support/metrics-server.ts";
import { AccessControl } from "./access/access-control.ts";
import { accessRulesOf, groupsNamed } from "./access/roles.ts";
import { UserGroupDirectory } from "./access/user-groups.ts";
import { registerApprovalClicks } from "./actions/approval-click.ts";
import { IncidentThreads } from "./alerts/incident-threads.ts";
import { startSecurityAlerts } from "./alerts/security-alerts.ts";
import { ApprovalStore } from "./approvals/approval-store.ts";
import { boltLogger } from "./bolt-logger.ts";
import { BotMetrics } from "./bot-metrics.ts";
import { registerHarborCommand } from "./commands/harbor-command.ts";
import { openControllerQueue } from "./controller-queue.ts";
import { DEPLOY_JOB, SlackDeploy } from "./deploy/slack-deploy.ts";
import { MANUAL_JOB, runManualOperation } from "./manual-operations.ts";
import { REMEDIATION_JOB, RemediationApproval } from "./remediation-approval.ts";
import { RequestDedupe } from "./request-dedupe.ts";
import { SlackSender } from "./slack-sender.ts";

const { App, HTTPReceiver, LogLevel } = bolt;

/** Slack's largest payloads (view submissions) are far below this; anything bigger is refused (413). */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** How the bot reaches Slack: tokens and where Slack is (the emulator, for the lab). */
export interface SlackConnection {
  readonly botToken: string;
  /** HTTP mode: requests are verified with it. */
  readonly signingSecret?: string;
  /** Socket Mode when set (xapp-...). */
  readonly appToken?: string;
  /** The Web API's base URL, ending in /api/; Slack's own by default. */
  readonly apiUrl?: string;
}

export interface BotOptions {
  readonly site: SiteConfig;
  readonly slack: SlackConnection;
  /** The bot's (controller role's) login to the control-plane Redis. */
  readonly redis: RedisCredentials;
  /** The superuser's password for the canary write through the VIP. */
  readonly pgPassword: string | undefined;
  /** The site's secrets, for deploys; undefined when the environment lacks one (deploys refused). */
  readonly secrets: SiteSecrets | undefined;
  /** The site file's text and the secrets' variables, for agents a deploy installs over SSH. */
  readonly configText: string;
  readonly secretsEnv: Readonly<Record<string, string>>;
  /** Signs and verifies jobs, chains the audit log, seals Harbor's secrets; never in Redis. */
  readonly siteKey: SiteKey;
  readonly logger: Logger;
  /** HTTP mode: where POST /slack/events and GET /metrics listen. Socket Mode: /metrics only. */
  readonly port: number;
  readonly host?: string;
  /** Least time between two posts to one channel; Slack's own limit by default. */
  readonly channelSpacingMs?: number;
  /** false: observe and answer, never remediate (no controller lease is sought). */
  readonly controller?: boolean;
  /** Where /metrics listens; undefined: metrics.botListen of the site; null: nowhere. */
  readonly metricsListen?: ListenAddress | null;
  /** Scrapers must send it (metrics.bearerTokenEnv's value). */
  readonly metricsBearerToken?: string;
}

/**
 * The bot's /metrics on its own listener. A port that is taken is logged and the bot runs on:
 * answering Slack and failing over matter more than being scraped.
 */
async function serveBotMetrics(
  metrics: BotMetrics,
  options: BotOptions,
  logger: Logger,
): Promise<MetricsServer | undefined> {
  const listen =
    options.metricsListen === undefined
      ? parseListenAddress(options.site.metrics.botListen)
      : (options.metricsListen ?? undefined);
  if (!listen) return undefined;
  try {
    return await startMetricsServer(
      metrics.registry,
      listen,
      options.metricsBearerToken === undefined ? {} : { bearerToken: options.metricsBearerToken },
    );
  } catch (error) {
    logger.error(
      { event: "metrics.listen_failed", listen: formatListenAddress(listen), err: errorMessage(error) },
      "cannot serve metrics; the bot runs on without them (see --metrics-listen and metrics.botListen)",
    );
    return undefined;
  }
}

export interface RunningBot {
  readonly mode: "http" | "socket";
  readonly port: number;
  readonly metrics: BotMetrics;
  /** Where GET /metrics answers, when it does. */
  readonly metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * The Slack app: Bolt over HTTP (signed requests at /slack/events) or Socket Mode, the
 * `/harbor` command, the snapshot store it answers `status` from, and /metrics.
 */
/**
 * How long one of the bot's Redis commands may take before the person who clicked is told it
 * failed. Clicks and commands are acked to Slack first, so this is not bound by Slack's 3 s; it
 * must ride out a busy Redis (an AOF fsync stalled by the disk, measured past 1 s on a loaded
 * 2-core lab host) yet still answer well before a person gives up.
 */
const REDIS_COMMAND_TIMEOUT_MS = 5_000;

export async function startBot(options: BotOptions): Promise<RunningBot> {
  const { site, slack, logger } = options;
  const redis = openControlPlaneRedis(site.controlPlane, options.redis, {
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on("error", (error) =>
    logger.warn({ event: "redis.error", err: error.message }, "control-plane Redis error"),
  );
  const store = new SnapshotStore({
    site,
    redis: options.redis,
    pgPassword: options.pgPassword,
    logger: logger.child({ component: "snapshot" }),
  });
  await store.start();
  const queues = site.nodes.map((node) => ({
    node: node.name,
    queue: new Queue(nodeQueueName(node.name), { connection: redis, prefix: queuePrefix(site.site) }),
  }));
  const metrics = new BotMetrics(
    () => store.current(),
    () =>
      Promise.all(
        queues.map(async ({ node, queue }) => {
          const counts = await queue.getJobCounts("waiting", "active", "failed");
          return {
            node,
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            failed: counts.failed ?? 0,
          };
        }),
      ),
  );
  const socketMode = slack.appToken !== undefined;
  const clientOptions = {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    // The sender decides what is safe to send again (slack-sender.ts); the client must not.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  };
  const boltLog = boltLogger(logger, (reason) => metrics.refusedRequests.inc({ reason }));
  const app = new App({
    token: slack.botToken,
    logger: boltLog,
    logLevel: LogLevel.INFO,
    clientOptions,
    ...(socketMode
      ? { socketMode: true, appToken: slack.appToken }
      : {
          receiver: new HTTPReceiver({
            signingSecret: slack.signingSecret ?? "",
            endpoints: ["/slack/events"],
            logger: boltLog,
            bodyLimit: BODY_LIMIT_BYTES,
          }),
        }),
  });
  const sender = new SlackSender(app.client, logger.child({ component: "slack-sender" }), {
    ...(options.channelSpacingMs === undefined ? {} : { channelSpacingMs: options.channelSpacingMs }),
  });
  const audit = new AuditLog(redis, site.site, options.siteKey, site.audit);
  if (!(await audit.durable().catch(() => true))) {
    logger.warn(
      { event: "audit.not-durable" },
      "the control-plane Redis runs without appendonly: the audit log and pending approvals are lost if it restarts",
    );
  }
  const dedupe = new RequestDedupe(redis, site.site);
  const approvals = new ApprovalStore(redis, site.site, options.siteKey, site.slack.twoPersonRule ? 2 : 1);
  const accessRules = accessRulesOf(site.slack);
  const access = new AccessControl(
    accessRules,
    new UserGroupDirectory(app.client, groupsNamed(accessRules), logger.child({ component: "access" })),
  );
  const deployLock = siteDeployLock(redis, site.site);
  const controllerQueue = await openControllerQueue(
    site,
    options.siteKey,
    options.redis,
    logger.child({ component: "controller" }),
  );
  const deploy = new SlackDeploy({
    site,
    secrets: options.secrets,
    configText: options.configText,
    secretsEnv: options.secretsEnv,
    siteKey: options.siteKey,
    redis: options.redis,
    sender,
    approvals,
    audit,
    lock: deployLock,
    store,
    queue: controllerQueue,
    logger: logger.child({ component: "deploy" }),
  });
  const nodeJobs = new NodeJobs(site, options.siteKey, options.redis);
  const controllerRedis = openControlPlaneRedis(site.controlPlane, options.redis);
  controllerRedis.on("error", () => {});
  let remediation: RemediationApproval | undefined;
  const controller = new Controller({
    site,
    store,
    jobs: nodeJobs,
    redis: controllerRedis,
    reporter: new IncidentThreads(
      site,
      sender,
      logger.child({ component: "alerts" }),
      (incident, decision, requester) =>
        remediation ? remediation.ask(incident, decision, requester) : Promise.resolve(),
    ),
    pgPassword: options.pgPassword,
    logger: logger.child({ component: "controller" }),
  });
  remediation = new RemediationApproval({
    site,
    controller,
    approvals,
    sender,
    audit,
    queue: controllerQueue,
  });
  registerHarborCommand(app, {
    site,
    store,
    sender,
    audit,
    dedupe,
    access,
    metrics,
    deploy,
    deployLock,
    controller,
    logger: logger.child({ component: "commands" }),
  });
  registerApprovalClicks(app, {
    site,
    approvals,
    access,
    kinds: { deploy, remediation },
    sender,
    audit,
    dedupe,
    logger: logger.child({ component: "approvals" }),
  });
  // Keyed by the constants the producers use: a name that is not a ControllerJobName fails to compile.
  await controllerQueue.startWorker({
    [DEPLOY_JOB]: (payload) => deploy.run(payload.requestId),
    [REMEDIATION_JOB]: (payload) => remediation.run(payload.requestId),
    [MANUAL_JOB]: (payload) => runManualOperation(payload, { site, store, controller }),
  });
  const securityAlerts = startSecurityAlerts({
    site,
    redis: options.redis,
    audit,
    sender,
    logger: logger.child({ component: "security-alerts" }),
  });
  if (options.controller !== false) controller.start();
  app.error(async (error) => {
    logger.error({ event: "bolt.error", err: error.message }, "unhandled error in a Slack handler");
  });

  if (socketMode) await app.start();
  else await app.start({ port: options.port, host: options.host ?? "0.0.0.0" });
  // Never on Slack's listener (public, for /slack/events): a listener of its own, loopback by default.
  const metricsServer = await serveBotMetrics(metrics, options, logger);
  logger.info(
    {
      event: "bot.ready",
      mode: socketMode ? "socket" : "http",
      port: options.port,
      apiUrl: slack.apiUrl ?? "slack.com",
      ...(metricsServer ? { metrics: metricsServer.url } : {}),
    },
    socketMode
      ? "bot connected in Socket Mode"
      : `bot listening on :${options.port} (POST /slack/events)${metricsServer ? `; metrics on ${metricsServer.url}` : ""}`,
  );
  return {
    mode: socketMode ? "socket" : "http",
    port: options.port,
    metrics,
    metricsUrl: metricsServer?.url,
    async stop() {
      const stage = async (name: string, step: () => Promise<unknown>) => {
        const started = performance.now();
        await step();
        logger.debug(
          { event: "bot.stop.stage", stage: name, ms: Math.round(performance.now() - started) },
          name,
        );
      };
      await stage("controller", () => controller.stop());
      await stage("security-alerts", () => securityAlerts.stop());
      await stage("slack", () => app.stop());
      await stage("controller-queue", () => controllerQueue.close());
      await stage("node-jobs", () => nodeJobs.close());
      await stage("metrics", async () => metricsServer?.close());
      await stage("queues", () => Promise.all(queues.map(({ queue }) => queue.close())));
      await stage("snapshot", () => store.close());
      controllerRedis.disconnect();
      redis.disconnect();
    },
  };
}
