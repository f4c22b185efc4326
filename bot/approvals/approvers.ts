import type { WebClient } from "@slack/web-api";
import type { Logger } from "../../support/logger.ts";

/**
 * Who may approve: the user IDs in `slack.approvers`, and the members of the user groups (S...)
 * named there, asked of Slack and kept for a minute. When Slack cannot say who is in a group,
 * only the users named directly may approve: a failure never widens the set.
 */
export class ApproverDirectory {
  private cached: { at: number; users: ReadonlySet<string> } | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly configured: readonly string[],
    private readonly logger: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  async approvers(now = Date.now()): Promise<ReadonlySet<string>> {
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.users;
    const users = new Set(this.configured.filter((id) => !id.startsWith("S")));
    for (const group of this.configured.filter((id) => id.startsWith("S"))) {
      try {
        const result = await this.client.usergroups.users.list({ usergroup: group });
        for (const user of result.users ?? []) users.add(user);
      } catch (error) {
        this.logger.warn(
          { event: "approvers.group.failed", group, err: (error as Error).message },
          `could not list user group ${group}: its members cannot approve until it can be read`,
        );
        // Not cached: the next click asks again.
        return users;
      }
    }
    this.cached = { at: now, users };
    return users;
  }
}
