import type { SiteConfig } from "../../config/schema.ts";
import type { ActionReport } from "../../jobs/controller/action-runner.ts";
import type { Incident, IncidentReporter } from "../../jobs/controller/incident.ts";
import { timelineText } from "../../jobs/controller/incident.ts";
import type { Decision } from "../../jobs/controller/remediation.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { SlackSender } from "../slack-sender.ts";
import { incidentMessage, stepText, writesLost } from "../views/incident-view.ts";

/** How a decision that needs a person becomes an approval request (bot/remediation-approval.ts). */
export type AskForApproval = (incident: Incident, decision: Decision, requester: string) => Promise<void>;

/**
 * Incidents in the alert channel: one thread each, the top message edited as the state changes,
 * each action posted in the thread with its duration, the timeline and data loss at the end.
 * Slack being down never stops a remediation: failures to post are logged.
 */
export class IncidentThreads implements IncidentReporter {
  constructor(
    private readonly site: SiteConfig,
    private readonly sender: SlackSender,
    private readonly logger: Logger,
    private readonly ask: AskForApproval,
  ) {}

  async open(incident: Incident): Promise<{ channel: string; ts: string } | null> {
    const channel = this.site.slack.alertChannel;
    return this.safely(
      "open",
      async () => ({ channel, ts: await this.sender.post(channel, incidentMessage(incident)) }),
      null,
    );
  }

  async update(incident: Incident): Promise<void> {
    const thread = incident.thread;
    if (!thread) return;
    await this.safely(
      "update",
      () => this.sender.update(thread.channel, thread.ts, incidentMessage(incident)),
      undefined,
    );
    if (incident.state === "resolved" || incident.state === "failed") {
      const lost = writesLost(incident);
      const loss = lost === undefined ? "" : `\nwrites lost: ${lost}`;
      await this.note(
        incident,
        `*${incident.state === "resolved" ? "Resolved" : "Failed"}.* Timeline:\n\`\`\`${timelineText(incident)}${loss}\`\`\``,
      );
    }
  }

  async note(incident: Incident, text: string): Promise<void> {
    const thread = incident.thread;
    if (!thread) return;
    await this.safely(
      "note",
      () => this.sender.post(thread.channel, { text, thread_ts: thread.ts }),
      undefined,
    );
  }

  async step(incident: Incident, report: ActionReport): Promise<void> {
    await this.note(incident, stepText(report));
  }

  async askApproval(incident: Incident, decision: Decision, requester: string): Promise<void> {
    await this.safely("ask", () => this.ask(incident, decision, requester), undefined);
  }

  async announce(text: string): Promise<void> {
    const channel = this.site.slack.alertChannel;
    await this.safely("announce", () => this.sender.post(channel, { text }), undefined);
  }

  private async safely<T>(what: string, post: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await post();
    } catch (error) {
      this.logger.warn(
        { event: "alert.post.failed", what, err: errorMessage(error) },
        "could not post the alert",
      );
      return fallback;
    }
  }
}
