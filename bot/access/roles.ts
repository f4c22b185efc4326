import type { SiteConfig } from "../../config/schema.ts";
import type { Verb } from "../commands/parse-command.ts";

/**
 * Who may do what in Slack. Pure: the verb, the user, the channel, the user groups' members as
 * far as Slack told us, and the site's rules in; allowed, or refused with the role needed and a
 * sentence for the user, out. A user group that could not be read counts as empty: a Slack
 * outage never widens who may act.
 */

export type Role = "viewer" | "operator" | "approver";

/** Each verb and the role it needs: the verb decides, never its flags (a deploy dry run still reaches the nodes). */
export const VERB_ROLES: Readonly<Record<Verb, Exclude<Role, "approver">>> = {
  help: "viewer",
  status: "viewer",
  history: "viewer",
  lock: "viewer",
  deploy: "operator",
  switchover: "operator",
  failover: "operator",
  rejoin: "operator",
  pause: "operator",
  resume: "operator",
};

export interface AccessRules {
  readonly viewers: "everyone" | readonly string[];
  readonly operators: readonly string[];
  readonly approvers: readonly string[];
  /** Where changing verbs (the operator's) may be run. */
  readonly changeChannels: readonly string[];
}

/** User group id (S...) -> its members; a group missing here could not be read. */
export type GroupMembers = ReadonlyMap<string, ReadonlySet<string>>;

export type Authorization =
  | { readonly ok: true; readonly role: Role }
  | {
      readonly ok: false;
      readonly reason: "role" | "channel";
      readonly needs: Role;
      readonly message: string;
    };

/** The site's slack section as rules, its defaults filled in (config/schema.ts says why). */
export function accessRulesOf(slack: SiteConfig["slack"]): AccessRules {
  return {
    viewers: slack.viewers,
    operators: slack.operators ?? slack.approvers,
    approvers: slack.approvers,
    changeChannels: slack.changeChannels ?? [slack.alertChannel],
  };
}

/** Every user group the rules name: the ones to ask Slack about. */
export function groupsNamed(rules: AccessRules): string[] {
  const all = [
    ...(rules.viewers === "everyone" ? [] : rules.viewers),
    ...rules.operators,
    ...rules.approvers,
  ];
  return [...new Set(all.filter(isGroup))];
}

const isGroup = (id: string) => id.startsWith("S");

function listed(principals: readonly string[], user: string, groups: GroupMembers): boolean {
  return principals.some((id) => (isGroup(id) ? (groups.get(id)?.has(user) ?? false) : id === user));
}

/** Whether the user holds the role. Operators and approvers may view too. */
export function holds(role: Role, user: string, groups: GroupMembers, rules: AccessRules): boolean {
  switch (role) {
    case "approver":
      return listed(rules.approvers, user, groups);
    case "operator":
      return listed(rules.operators, user, groups);
    case "viewer":
      return (
        rules.viewers === "everyone" ||
        listed(rules.viewers, user, groups) ||
        listed(rules.operators, user, groups) ||
        listed(rules.approvers, user, groups)
      );
  }
}

const FIELD: Readonly<Record<Role, string>> = {
  viewer: "slack.viewers",
  operator: "slack.operators",
  approver: "slack.approvers",
};

/** The people and groups of a role, as Slack shows them. */
function named(principals: readonly string[]): string {
  return principals.map((id) => (isGroup(id) ? `<!subteam^${id}>` : `<@${id}>`)).join(", ");
}

/** Whether `user` may run `verb` in `channel`; the refusal says which role or channel it needs. */
export function authorize(
  verb: Verb,
  user: string,
  channel: string,
  groups: GroupMembers,
  rules: AccessRules,
): Authorization {
  const needs = VERB_ROLES[verb];
  if (!holds(needs, user, groups, rules)) {
    const principals = needs === "viewer" && rules.viewers !== "everyone" ? rules.viewers : rules.operators;
    const unread = principals.filter((id) => isGroup(id) && !groups.has(id));
    const unreadText =
      unread.length > 0
        ? ` (Slack could not say who is in ${named(unread)} just now: try again in a minute.)`
        : "";
    return {
      ok: false,
      reason: "role",
      needs,
      message: `:no_entry: \`/harbor ${verb}\` needs the ${needs} role (${FIELD[needs]}: ${named(principals)}); you do not have it, so nothing was run.${unreadText}`,
    };
  }
  if (needs === "operator" && !rules.changeChannels.includes(channel)) {
    const where = rules.changeChannels.map((id) => `<#${id}>`).join(", ");
    return {
      ok: false,
      reason: "channel",
      needs,
      message: `:no_entry: \`/harbor ${verb}\` changes the site, so it runs only in ${where} (slack.changeChannels); nothing was run here.`,
    };
  }
  return { ok: true, role: needs };
}
