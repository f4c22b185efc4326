import type { App, RespondFn, SlashCommand } from "@slack/bolt";
import type { SiteConfig } from "../../config/schema.ts";
import type { AuditLog } from "../../jobs/audit-log.ts";
import type { Controller } from "../../jobs/controller/controller.ts";
import type { SnapshotStore } from "../../jobs/controller/snapshot-store.ts";
import type { SiteLock } from "../../jobs/site-lock.ts";
import { errorMessage, isHarborHaError } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { AccessControl } from "../access/access-control.ts";
import type { BotMetrics } from "../bot-metrics.ts";
import type { SlackDeploy } from "../deploy/slack-deploy.ts";
import { runManualOperation } from "../manual-operations.ts";
import { type RequestDedupe, UNREACHABLE_REPLY } from "../request-dedupe.ts";
import type { SlackSender } from "../slack-sender.ts";
import { helpText } from "../views/help-text.ts";
import { historyView } from "../views/history-view.ts";
import { statusCard } from "../views/status-card.ts";
import { type ParsedCommand, parseCommand } from "./parse-command.ts";

export interface CommandDeps {
  readonly site: SiteConfig;
  readonly store: SnapshotStore;
  readonly sender: SlackSender;
  readonly audit: AuditLog;
  readonly dedupe: RequestDedupe;
  readonly access: AccessControl;
  readonly metrics: BotMetrics;
  readonly deploy: SlackDeploy;
  readonly deployLock: SiteLock;
  readonly controller: Controller;
  readonly logger: Logger;
}

type Work = Exclude<Extract<ParsedCommand, { ok: true }>, { verb: "help" }>;

/**
 * `/harbor ...`. The ack always comes first (Slack gives 3 s): a bad command, a refused one
 * (the user lacks the verb's role, or a changing verb outside slack.changeChannels) or `help`
 * is answered in the ack itself, to the asker only; any other verb is acked empty and its work
 * follows, once per trigger_id however often Slack sends the request. A request that cannot be
 * remembered (Redis down) is refused: running it twice could be worse than not running it.
 */
export function registerHarborCommand(app: App, deps: CommandDeps): void {
  app.command("/harbor", async ({ command, ack, respond, context }) => {
    const arrived = performance.now();
    const parsed = parseCommand(command.text);
    const log = deps.logger.child({
      user: command.user_id,
      channel: command.channel_id,
      trigger: command.trigger_id,
    });
    const answer = async (text: string, verb: string, outcome: string, detail?: string) => {
      await ack({ response_type: "ephemeral", text });
      deps.metrics.ackSeconds.observe((performance.now() - arrived) / 1000);
      deps.metrics.commands.inc({ verb, outcome });
      log.info({ event: "command", verb, outcome, ...(detail ? { detail } : {}) }, `/harbor ${command.text}`);
      await record(deps, command, outcome, detail);
    };
    if (!parsed.ok) return answer(parsed.reply, "invalid", "refused", firstLine(parsed.reply));
    const access = await deps.access.authorize(parsed.verb, command.user_id, command.channel_id);
    if (!access.ok) {
      const detail =
        access.reason === "role"
          ? `needs the ${access.needs} role`
          : `not in slack.changeChannels (${deps.access.rules.changeChannels.join(", ")})`;
      return answer(access.message, parsed.verb, "refused", detail);
    }
    if (parsed.verb === "help") return answer(helpText(deps.site.site, parsed.topic), "help", "ok");
    await ack();
    deps.metrics.ackSeconds.observe((performance.now() - arrived) / 1000);
    let first: boolean;
    try {
      first = await deps.dedupe.first(`command:${command.trigger_id}`);
    } catch (error) {
      if (!isHarborHaError(error) || error.code !== "CONTROL_PLANE_UNREACHABLE") throw error;
      deps.metrics.commands.inc({ verb: parsed.verb, outcome: "refused" });
      log.warn({ event: "command.unreachable", verb: parsed.verb, err: error.message }, UNREACHABLE_REPLY);
      await respond({ response_type: "ephemeral", text: UNREACHABLE_REPLY }).catch((respondError: unknown) =>
        log.warn({ event: "respond.failed", err: errorMessage(respondError) }, "could not tell the user"),
      );
      await record(deps, command, "refused", "the control plane is unreachable");
      return;
    }
    if (!first) {
      deps.metrics.duplicates.inc();
      log.info(
        { event: "command.duplicate", retryNum: context.retryNum, retryReason: context.retryReason },
        "a request that already ran: acked, not run again",
      );
      return;
    }
    log.info({ event: "command", verb: parsed.verb, retryNum: context.retryNum }, `/harbor ${command.text}`);
    try {
      await run(parsed, command, respond, deps);
      deps.metrics.commands.inc({ verb: parsed.verb, outcome: "ok" });
      await record(deps, command, "ok");
    } catch (error) {
      const message = errorMessage(error);
      deps.metrics.commands.inc({ verb: parsed.verb, outcome: "failed" });
      log.error(
        { event: "command.failed", verb: parsed.verb, err: message },
        `/harbor ${parsed.verb} failed`,
      );
      await record(deps, command, "failed", message);
      await respond({
        response_type: "ephemeral",
        text: `:x: \`/harbor ${parsed.verb}\` failed: ${message}`,
      }).catch((respondError: unknown) =>
        log.warn({ event: "respond.failed", err: errorMessage(respondError) }, "could not tell the user"),
      );
    }
  });
}

async function run(
  parsed: Work,
  command: SlashCommand,
  respond: RespondFn,
  deps: CommandDeps,
): Promise<void> {
  switch (parsed.verb) {
    case "status": {
      const started = performance.now();
      const snapshot = await deps.store.refresh();
      await deps.sender.post(
        command.channel_id,
        statusCard(snapshot, { paused: await deps.controller.paused() }),
      );
      deps.metrics.statusSeconds.observe((performance.now() - started) / 1000);
      return;
    }
    case "deploy": {
      const refusal = await deps.deploy.request(command, parsed);
      if (refusal) await respond({ response_type: "ephemeral", text: refusal });
      return;
    }
    case "switchover":
    case "failover":
    case "rejoin": {
      const outcome = await runManualOperation(
        {
          verb: parsed.verb,
          ...(parsed.node ? { node: parsed.node } : {}),
          reclone: parsed.reclone,
          dryRun: parsed.dryRun,
          actor: command.user_id,
        },
        deps,
      );
      await deps.sender.post(command.channel_id, {
        text: `${outcome.ok ? "" : ":x: "}\`/harbor ${command.text.trim()}\` by <@${command.user_id}>: ${outcome.text}`,
      });
      return;
    }
    case "pause":
    case "resume": {
      const paused = parsed.verb === "pause";
      await deps.controller.setPaused(paused);
      await deps.sender.post(command.channel_id, {
        text: paused
          ? `:double_vertical_bar: <@${command.user_id}> paused automation for ${deps.site.site}: problems are still alerted, and every plan is asked before it runs. \`/harbor resume\` turns it back on.`
          : `:arrow_forward: <@${command.user_id}> resumed automation for ${deps.site.site}.`,
      });
      return;
    }
    case "lock": {
      const holder = await deps.deployLock.current();
      await respond({
        response_type: "ephemeral",
        text: holder
          ? `:lock: <@${holder.owner}> holds the deploy lock since ${new Date(holder.since).toISOString()}: ${holder.what}.`
          : ":unlock: No deploy is running; the deploy lock is free.",
      });
      return;
    }
    case "history": {
      // The chain is checked as it is shown; a failed check is no reason to withhold the entries.
      const [entries, chain] = await Promise.all([
        deps.audit.recent(parsed.count),
        deps.audit.verify().catch(() => undefined),
      ]);
      const view = historyView(deps.site.site, entries, chain);
      await respond({ response_type: "ephemeral", text: view.text, blocks: view.blocks as never });
      return;
    }
  }
}

/** The audit entry of a command; an audit outage is logged, never fatal to the command. */
async function record(
  deps: CommandDeps,
  command: SlashCommand,
  outcome: string,
  detail?: string,
): Promise<void> {
  try {
    await deps.audit.append({
      actor: command.user_id,
      action: `${command.command} ${command.text}`.trim().slice(0, 200),
      outcome,
      where: command.channel_id,
      ...(detail ? { detail } : {}),
    });
  } catch (error) {
    deps.logger.warn(
      { event: "audit.failed", err: errorMessage(error) },
      "could not append to the audit log",
    );
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
