import type { Verb } from "../commands/parse-command.ts";
import { type AccessRules, type Authorization, authorize, holds, type Role } from "./roles.ts";
import type { UserGroupDirectory } from "./user-groups.ts";

/** The site's access rules with the user groups' members as Slack says now (cached a minute). */
export class AccessControl {
  constructor(
    readonly rules: AccessRules,
    private readonly directory: UserGroupDirectory,
  ) {}

  async authorize(verb: Verb, user: string, channel: string): Promise<Authorization> {
    return authorize(verb, user, channel, await this.directory.members(), this.rules);
  }

  async holds(role: Role, user: string): Promise<boolean> {
    return holds(role, user, await this.directory.members(), this.rules);
  }
}
