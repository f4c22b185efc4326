import type { SlashCommand } from "@slack/bolt";
import type { RedisCredentials } from "../../config/redis-credentials.ts";
import type { SiteConfig } from "../../config/schema.ts";
import type { SiteSecrets } from "../../config/secrets.ts";
import type { SiteKey } from "../../config/site-key.ts";
import type { AuditLog } from "../../jobs/audit-log.ts";
import type { SnapshotStore } from "../../jobs/controller/snapshot-store.ts";
import { DEPLOY_LOCK_TTL_MS } from "../../jobs/deploy/deploy-lock.ts";
import { runDeploy } from "../../jobs/deploy/run-deploy.ts";
import type { DeployEvent } from "../../jobs/deploy/run-plan.ts";
import { APPROVED_JOB_RETENTION } from "../../jobs/job-retention.ts";
import { JobRefusedError } from "../../jobs/signing/job-check.ts";
import type { SiteLock } from "../../jobs/site-lock.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { ApprovalKind } from "../approvals/approval-kind.ts";
import type { ApprovalRequest } from "../approvals/approval-rules.ts";
import type { ApprovalStore } from "../approvals/approval-store.ts";
import { reissueRequest } from "../approvals/reissue.ts";
import type { ControllerQueueSender } from "../controller-queue.ts";
import type { SlackSender } from "../slack-sender.ts";
import { ThreadLines } from "../thread-lines.ts";
import { approvalMessage } from "../views/approval-view.ts";
import { section } from "../views/block-kit.ts";
import { dryRunFrom, finishedText, planHash, planText, progressText, stepLine } from "./deploy-messages.ts";

export interface SlackDeployDeps {
  readonly site: SiteConfig;
  /** Undefined when the bot's environment lacks a site secret: it can show, not deploy. */
  readonly secrets: SiteSecrets | undefined;
  readonly configText: string;
  readonly secretsEnv: Readonly<Record<string, string>>;
  readonly siteKey: SiteKey;
  /** The bot's login to the control-plane Redis, which a deploy's node jobs go through. */
  readonly redis: RedisCredentials;
  readonly sender: SlackSender;
  readonly approvals: ApprovalStore;
  readonly audit: AuditLog;
  readonly lock: SiteLock;
  readonly store: SnapshotStore;
  /** The controller's queue: an approved deploy is a job whose id is the request's. */
  readonly queue: ControllerQueueSender;
  readonly logger: Logger;
}

export const DEPLOY_JOB = "deploy.run";

const RISK =
  "Steps that change something restart PostgreSQL, keepalived or Harbor on one node at a time; a failed step stops the deploy where it is.";

/**
 * `/harbor deploy` in Slack: a dry run makes the plan, posted with Approve / Cancel; an approved
 * plan runs as a job on the controller's queue (job id = request id, so it runs once), with each
 * step posted in the message's thread and the message itself kept up to date.
 */
export class SlackDeploy implements ApprovalKind {
  constructor(private readonly deps: SlackDeployDeps) {}

  /** The command: posts a placeholder at once, then the plan (with buttons unless a dry run). */
  async request(
    command: SlashCommand,
    options: { dryRun: boolean; harborVersion?: string },
  ): Promise<string> {
    const { deps } = this;
    if (!deps.secrets) {
      return "This bot cannot deploy: its environment lacks the site's secrets (postgres.superuser.passwordEnv and the others). `/harbor deploy --dry-run` still cannot check the nodes without them.";
    }
    const holder = await deps.lock.current();
    if (holder)
      return `<@${holder.owner}> is deploying since <!date^${Math.floor(holder.since / 1000)}^{time_secs}|${new Date(holder.since).toISOString()}> (${holder.what}).`;
    const placeholder = await deps.sender.post(command.channel_id, {
      text: `deploy: <@${command.user_id}> asked for a plan; checking every step on the nodes…`,
    });
    const plan = await this.plan(options.harborVersion);
    if (!plan.ok || options.dryRun || plan.failed) {
      const title = options.dryRun ? "deploy dry run (nothing will run)" : "deploy: the plan's checks failed";
      const text = plan.ok ? plan.planText : `the plan could not be made: ${plan.error}`;
      await deps.sender.update(command.channel_id, placeholder, {
        text: `${title}\n${text}`,
        blocks: [
          section(`*${title}*, asked by <@${command.user_id}>`),
          section(`\`\`\`${text.slice(0, 2900)}\`\`\``),
        ],
      });
      return "";
    }
    const now = Date.now();
    const request = await deps.approvals.create({
      kind: "deploy",
      requester: command.user_id,
      reason: `\`/harbor deploy${options.harborVersion ? ` --harbor-version ${options.harborVersion}` : ""}\``,
      risk: RISK,
      planText: plan.planText,
      planHash: plan.planHash,
      params: options.harborVersion ? { harborVersion: options.harborVersion } : {},
      channel: command.channel_id,
      createdAt: now,
      expiresAt: now + deps.site.policy.approvalExpiryMinutes * 60_000,
    });
    await this.show(request, placeholder);
    await deps.audit.append({
      actor: command.user_id,
      action: `approval.requested deploy (request ${request.id})`,
      outcome: "pending",
      where: command.channel_id,
      detail: `plan ${plan.planHash.slice(0, 12)}`,
    });
    return "";
  }

  async blocked(): Promise<string | undefined> {
    const holder = await this.deps.lock.current();
    return holder
      ? `<@${holder.owner}> is deploying since ${new Date(holder.since).toISOString()} (${holder.what}).`
      : undefined;
  }

  async replan(request: ApprovalRequest) {
    const plan = await this.plan(request.params.harborVersion);
    if (!plan.ok) throw new Error(`the plan could not be made again: ${plan.error}`);
    return { planHash: plan.planHash, planText: plan.planText };
  }

  async askAgain(
    request: ApprovalRequest,
    plan: { planHash: string; planText: string },
  ): Promise<ApprovalRequest> {
    return reissueRequest(
      this.deps,
      request,
      {
        reason: `${request.reason}, planned again: the cluster changed since request ${request.id}`,
        planText: plan.planText,
        planHash: plan.planHash,
      },
      this.deps.site.policy.approvalExpiryMinutes,
    );
  }

  async start(request: ApprovalRequest): Promise<void> {
    await this.deps.queue.enqueue(
      DEPLOY_JOB,
      { requestId: request.id },
      {
        jobId: `deploy-${request.id}`,
        // An approved deploy that has not started within an approval's lifetime must be asked again.
        lifetimeMs: this.deps.site.policy.approvalExpiryMinutes * 60_000,
        attempts: 1,
        ...APPROVED_JOB_RETENTION,
      },
    );
  }

  /** The approved deploy, as the controller's worker runs it. */
  async run(requestId: string): Promise<void> {
    const { deps } = this;
    const sealed = await deps.approvals.verified(requestId);
    if (!sealed.ok) throw new JobRefusedError("approval not sealed", sealed.detail);
    const { request } = sealed;
    if (request.status !== "approved" || !request.messageTs || !deps.secrets) {
      deps.logger.warn(
        { event: "deploy.job.refused", requestId, status: request.status },
        "not an approved deploy: not run",
      );
      return;
    }
    const thread = { channel: request.channel, ts: request.messageTs };
    const lines = new ThreadLines(deps.sender, thread.channel, thread.ts, (error) =>
      deps.logger.warn(
        { event: "deploy.post.failed", err: errorMessage(error) },
        "a progress line was not posted",
      ),
    );
    const acquired = await deps.lock.acquire(
      request.decidedBy ?? request.requester,
      `deploy (request ${request.id})`,
      DEPLOY_LOCK_TTL_MS,
    );
    if (!acquired.ok) {
      lines.add(
        `Not run: <@${acquired.holder?.owner ?? "?"}> is deploying (${acquired.holder?.what ?? "?"}).`,
      );
      await lines.drain();
      return;
    }
    const renew = setInterval(
      () => void deps.lock.renew(acquired.holder.token, DEPLOY_LOCK_TTL_MS).catch(() => {}),
      60_000,
    );
    const edits: Array<Promise<unknown>> = [];
    let done = 0;
    let total = 0;
    const onEvent = (event: DeployEvent) => {
      if (event.type === "plan") total = event.plan.steps.length;
      if (event.type === "step.started") {
        edits.push(this.show(request, thread.ts, progressText(done, total, event.step)));
      }
      if (event.type === "step.finished") {
        done += 1;
        lines.add(stepLine(event, total));
      }
    };
    let released = false;
    const release = async () => {
      clearInterval(renew);
      if (!released) await deps.lock.release(acquired.holder.token);
      released = true;
    };
    try {
      lines.add(`:rocket: Deploy started on <@${request.decidedBy}>'s approval.`);
      const { summary } = await runDeploy({
        site: deps.site,
        secrets: deps.secrets,
        configText: deps.configText,
        secretsEnv: deps.secretsEnv,
        siteKey: deps.siteKey,
        redis: deps.redis,
        dryRun: false,
        ...(request.params.harborVersion ? { harborVersion: request.params.harborVersion } : {}),
        logger: deps.logger,
        onEvent,
      });
      // The deploy is over: the next one may start while its last words are posted.
      await release();
      await Promise.allSettled(edits);
      await lines.drain();
      const last = finishedText(summary, lines.posted + 1);
      await this.show(request, thread.ts, last);
      lines.add(last);
      await lines.drain();
      await deps.audit.append({
        actor: request.decidedBy ?? "?",
        action: `deploy (request ${request.id})`,
        outcome: summary.failed ? "failed" : "ok",
        where: request.channel,
        detail: last.replace(/:[a-z_]+: /, ""),
      });
    } catch (error) {
      await release();
      await Promise.allSettled(edits);
      lines.add(`:x: The deploy stopped: ${errorMessage(error)}`);
      await lines.drain();
      await deps.audit.append({
        actor: request.decidedBy ?? "?",
        action: `deploy (request ${request.id})`,
        outcome: "failed",
        where: request.channel,
        detail: errorMessage(error),
      });
    } finally {
      await release();
    }
  }

  private async show(request: ApprovalRequest, ts: string, progress?: string): Promise<void> {
    const current = (await this.deps.approvals.get(request.id)) ?? request;
    if (!current.messageTs) await this.deps.approvals.setMessage(request.id, ts);
    await this.deps.sender.update(
      request.channel,
      ts,
      approvalMessage({ ...current, messageTs: ts }, progress),
    );
  }

  private async plan(harborVersion: string | undefined) {
    const { deps } = this;
    const events: DeployEvent[] = [];
    try {
      if (!deps.secrets) throw new Error("no site secrets");
      await runDeploy({
        site: deps.site,
        secrets: deps.secrets,
        configText: deps.configText,
        secretsEnv: deps.secretsEnv,
        siteKey: deps.siteKey,
        redis: deps.redis,
        dryRun: true,
        ...(harborVersion ? { harborVersion } : {}),
        logger: deps.logger,
        onEvent: (event) => events.push(event),
      });
      const dryRun = dryRunFrom(events);
      if (!dryRun) throw new Error("the dry run reported no plan");
      const snapshot = deps.store.current();
      return {
        ok: true as const,
        planText: planText(dryRun),
        planHash: planHash(dryRun, { primaries: snapshot.primaries, vipHolders: snapshot.vip.holders }),
        failed: dryRun.summary.failed !== undefined,
      };
    } catch (error) {
      return { ok: false as const, error: errorMessage(error) };
    }
  }
}
