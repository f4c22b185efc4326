import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseSiteConfig } from "../../config/load.ts";
import {
  agentAclRules,
  controllerAclRules,
  passwordHashesFrom,
  redisAclUsers,
  renderAclFile,
  sha256Hex,
} from "../../jobs/redis-acl.ts";
import { exampleSiteYaml, siteYamlWith } from "../support/site-fixtures.ts";

const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");
const keysOf = (rules: readonly string[]) => rules.filter((rule) => /^(%R)?~/.test(rule));

describe("the control-plane Redis's ACL", () => {
  test("one user per role: the controller, then an agent per node", () => {
    assert.deepEqual(
      redisAclUsers(site).map((user) => [user.role, user.user]),
      [
        ["controller", "harbor-ha-controller"],
        ["agent:node01", "harbor-ha-agent-node01"],
        ["agent:node02", "harbor-ha-agent-node02"],
      ],
    );
  });

  test("an agent's keys are its own queue, observation and lease, and the controller lease read-only", () => {
    assert.deepEqual(keysOf(agentAclRules(site, "node01")), [
      "~harbor-ha:registry-prod:node.node01:*",
      "~harbor-ha:registry-prod:observation:node01",
      "~harbor-ha:registry-prod:primary-lease:node01",
      "%R~harbor-ha:registry-prod:controller:lease",
      "%R~harbor-ha:registry-prod:harbor-secrets",
    ]);
    const rules = agentAclRules(site, "node01").join(" ");
    assert.doesNotMatch(rules, /node02|~harbor-ha:registry-prod:\*|controller:lease(?! )|:controller:\*/);
    assert.match(
      rules,
      / &harbor-ha:registry-prod:observations /,
      "it publishes on the observations channel only",
    );
  });

  test("the security events are reachable by an agent through XADD alone, the audit log not at all", () => {
    const rules = agentAclRules(site, "node01");
    const selector = rules.find((rule) => rule.startsWith("("));
    assert.equal(selector, "(~harbor-ha:registry-prod:security-events resetchannels -@all +xadd)");
    assert.doesNotMatch(rules.join(" "), /:audit/);
  });

  test("no role may flush, reconfigure, list keys, debug or change users", () => {
    for (const rules of [agentAclRules(site, "node01"), controllerAclRules(site)]) {
      const text = rules.join(" ");
      for (const command of [
        "flushall",
        "flushdb",
        "config",
        "keys",
        "debug",
        "acl",
        "shutdown",
        "monitor",
      ]) {
        assert.doesNotMatch(text, new RegExp(`\\+${command}\\b`), `+${command}`);
      }
    }
    assert.match(controllerAclRules(site).join(" "), /-@dangerous -@admin/);
    assert.doesNotMatch(
      agentAclRules(site, "node01").join(" "),
      /\+@/,
      "an agent gets commands, not categories",
    );
  });

  test("the controller gets its own site's keys and channels, no other site's", () => {
    assert.deepEqual(keysOf(controllerAclRules(site)), ["~harbor-ha:registry-prod:*"]);
    assert.ok(controllerAclRules(site).includes("&harbor-ha:registry-prod:*"));
  });

  test("the file turns the default user off and carries only password hashes", () => {
    const env = {
      HARBOR_HA_REDIS_PASSWORD: "controller-secret",
      HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "node01-secret",
      HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02: "node02-secret",
    };
    const text = renderAclFile(site, passwordHashesFrom(site, env));
    const lines = text.trim().split("\n");
    assert.equal(lines[0], "user default off resetpass resetkeys resetchannels -@all");
    assert.equal(lines.length, 4);
    assert.ok(
      lines[2]?.startsWith(`user harbor-ha-agent-node01 on resetpass #${sha256Hex("node01-secret")} `),
    );
    for (const secret of Object.values(env)) assert.ok(!text.includes(secret), "no password in clear");
  });

  test("every missing password is named at once; a site without users has no ACL", () => {
    assert.throws(
      () => passwordHashesFrom(site, { HARBOR_HA_REDIS_PASSWORD: "x" }),
      /HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01 \(harbor-ha-agent-node01\), HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02/,
    );
    const { site: open } = parseSiteConfig(
      siteYamlWith([[["controlPlane", "auth"], undefined]]),
      "site.yaml",
    );
    assert.deepEqual(redisAclUsers(open), []);
    assert.throws(() => passwordHashesFrom(open, {}), /names no Redis ACL users/);
  });
});
