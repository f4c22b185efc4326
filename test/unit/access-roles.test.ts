import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import {
  type AccessRules,
  accessRulesOf,
  authorize,
  type GroupMembers,
  groupsNamed,
  holds,
  VERB_ROLES,
} from "../../bot/access/roles.ts";
import { VERBS } from "../../bot/commands/parse-command.ts";
import { siteSchema } from "../../config/schema.ts";
import { exampleSiteYaml } from "../support/site-fixtures.ts";

const ALERTS = "C0ALERTS";
const rules = (changes: Partial<AccessRules> = {}): AccessRules => ({
  viewers: "everyone",
  operators: ["U0OPER", "S0ONCALL"],
  approvers: ["U0APPROVER", "S0LEADS"],
  changeChannels: [ALERTS],
  ...changes,
});
const GROUPS: GroupMembers = new Map([
  ["S0ONCALL", new Set(["U0PAGED"])],
  ["S0LEADS", new Set(["U0LEAD"])],
  ["S0READERS", new Set(["U0READER"])],
]);
const VIEW_VERBS = ["help", "status", "history", "lock"] as const;
const CHANGE_VERBS = ["deploy", "switchover", "failover", "rejoin", "pause", "resume"] as const;

describe("who may run which /harbor verb", () => {
  test("every verb of the parser has a role: the four that only read need a viewer, the rest an operator", () => {
    assert.deepEqual(Object.keys(VERB_ROLES).sort(), Object.keys(VERBS).sort());
    for (const verb of VIEW_VERBS) assert.equal(VERB_ROLES[verb], "viewer", verb);
    for (const verb of CHANGE_VERBS) assert.equal(VERB_ROLES[verb], "operator", verb);
  });

  test("with viewers: everyone, any member of the workspace may view, in any channel", () => {
    for (const verb of VIEW_VERBS) {
      assert.deepEqual(authorize(verb, "U0STRANGER", "C0ELSEWHERE", GROUPS, rules()), {
        ok: true,
        role: "viewer",
      });
    }
  });

  test("a member who is not an operator is refused every changing verb, told the role and who holds it", () => {
    for (const verb of CHANGE_VERBS) {
      const verdict = authorize(verb, "U0STRANGER", ALERTS, GROUPS, rules());
      assert.equal(verdict.ok, false, verb);
      assert.equal(!verdict.ok && verdict.reason, "role");
      assert.equal(!verdict.ok && verdict.needs, "operator");
      assert.equal(
        !verdict.ok && verdict.message,
        `:no_entry: \`/harbor ${verb}\` needs the operator role (slack.operators: <@U0OPER>, <!subteam^S0ONCALL>); you do not have it, so nothing was run.`,
      );
    }
  });

  test("an operator named directly, or a member of an operators' group, may change the site in an allowed channel", () => {
    for (const user of ["U0OPER", "U0PAGED"]) {
      for (const verb of CHANGE_VERBS) {
        assert.deepEqual(authorize(verb, user, ALERTS, GROUPS, rules()), { ok: true, role: "operator" });
      }
    }
  });

  test("an approver is not an operator unless listed as one", () => {
    for (const user of ["U0APPROVER", "U0LEAD"]) {
      const verdict = authorize("switchover", user, ALERTS, GROUPS, rules());
      assert.equal(!verdict.ok && verdict.needs, "operator", user);
      assert.equal(holds("approver", user, GROUPS, rules()), true);
    }
    assert.equal(holds("approver", "U0OPER", GROUPS, rules()), false, "and an operator is no approver");
  });

  test("an operator in a channel outside changeChannels is refused, told which channels allow it", () => {
    const verdict = authorize(
      "failover",
      "U0OPER",
      "C0RANDOM",
      GROUPS,
      rules({ changeChannels: [ALERTS, "C0OPS"] }),
    );
    assert.equal(!verdict.ok && verdict.reason, "channel");
    assert.equal(
      !verdict.ok && verdict.message,
      ":no_entry: `/harbor failover` changes the site, so it runs only in <#C0ALERTS>, <#C0OPS> (slack.changeChannels); nothing was run here.",
    );
    assert.deepEqual(
      authorize("failover", "U0OPER", "C0OPS", GROUPS, rules({ changeChannels: [ALERTS, "C0OPS"] })),
      {
        ok: true,
        role: "operator",
      },
    );
  });

  test("viewing is not bound to the allowed channels: status works anywhere", () => {
    assert.equal(authorize("status", "U0OPER", "C0RANDOM", GROUPS, rules()).ok, true);
  });

  test("with a list of viewers, others are refused viewing; operators and approvers may always view", () => {
    const listed = rules({ viewers: ["U0VIEW", "S0READERS"] });
    for (const user of ["U0VIEW", "U0READER", "U0OPER", "U0PAGED", "U0APPROVER", "U0LEAD"]) {
      assert.equal(authorize("status", user, "C0ANY", GROUPS, listed).ok, true, user);
    }
    const refused = authorize("history", "U0STRANGER", "C0ANY", GROUPS, listed);
    assert.equal(!refused.ok && refused.needs, "viewer");
    assert.equal(
      !refused.ok && refused.message,
      ":no_entry: `/harbor history` needs the viewer role (slack.viewers: <@U0VIEW>, <!subteam^S0READERS>); you do not have it, so nothing was run.",
    );
  });

  test("a user group Slack could not list counts as empty, and the refusal says so", () => {
    const unread: GroupMembers = new Map();
    const verdict = authorize("deploy", "U0PAGED", ALERTS, unread, rules());
    assert.equal(!verdict.ok && verdict.reason, "role");
    assert.match(
      !verdict.ok ? verdict.message : "",
      /Slack could not say who is in <!subteam\^S0ONCALL> just now: try again in a minute/,
    );
    assert.equal(authorize("deploy", "U0OPER", ALERTS, unread, rules()).ok, true, "named users still may");
  });

  test("the groups to ask Slack about are every S... the rules name, once", () => {
    assert.deepEqual(groupsNamed(rules({ viewers: ["S0READERS", "S0LEADS"] })).sort(), [
      "S0LEADS",
      "S0ONCALL",
      "S0READERS",
    ]);
  });

  test("a new site's defaults: everyone views, the approvers operate, only in the alert channel", () => {
    const document = parseYaml(exampleSiteYaml()) as { slack: Record<string, unknown> };
    document.slack = { alertChannel: ALERTS, approvers: ["U0APPROVER", "U0OTHER"] };
    const site = siteSchema.parse(document);
    assert.equal(site.slack.twoPersonRule, true);
    assert.equal(site.slack.approval.switchover, true);
    assert.deepEqual(accessRulesOf(site.slack), {
      viewers: "everyone",
      operators: ["U0APPROVER", "U0OTHER"],
      approvers: ["U0APPROVER", "U0OTHER"],
      changeChannels: [ALERTS],
    });
  });
});
