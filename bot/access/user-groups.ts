import type { WebClient } from "@slack/web-api";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import type { GroupMembers } from "./roles.ts";

/** A lookup slower than this is given up: a command must be acked within Slack's 3 s. */
const LOOKUP_TIMEOUT_MS = 1_500;

/**
 * The members of the user groups (S...) the access rules name, asked of Slack
 * (usergroups.users.list) and kept for a minute. A group Slack cannot list is left out of the
 * answer and not kept, so it is asked again next time: its members hold no role meanwhile.
 */
export class UserGroupDirectory {
  private readonly cached = new Map<string, { at: number; users: ReadonlySet<string> }>();

  constructor(
    private readonly client: WebClient,
    private readonly groups: readonly string[],
    private readonly logger: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  async members(now = Date.now()): Promise<GroupMembers> {
    const answer = new Map<string, ReadonlySet<string>>();
    await Promise.all(
      this.groups.map(async (group) => {
        const kept = this.cached.get(group);
        if (kept && now - kept.at < this.ttlMs) {
          answer.set(group, kept.users);
          return;
        }
        try {
          const users = await this.list(group);
          this.cached.set(group, { at: now, users });
          answer.set(group, users);
        } catch (error) {
          this.logger.warn(
            { event: "usergroup.read.failed", group, err: errorMessage(error) },
            `could not list user group ${group}: its members hold no role until it can be read`,
          );
        }
      }),
    );
    return answer;
  }

  private async list(group: string): Promise<ReadonlySet<string>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS} ms`)),
        LOOKUP_TIMEOUT_MS,
      );
    });
    try {
      const result = await Promise.race([this.client.usergroups.users.list({ usergroup: group }), timeout]);
      return new Set(result.users ?? []);
    } finally {
      clearTimeout(timer);
    }
  }
}
