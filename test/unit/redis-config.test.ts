import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlPlaneGaps } from "../../config/control-plane-check.ts";
import { type LocatedProblem, parseSiteConfig } from "../../config/load.ts";
import {
  agentPasswordEnv,
  agentRedisEnv,
  agentRole,
  resolveRedisCredentials,
} from "../../config/redis-credentials.ts";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { agentInstallFor } from "../../jobs/deploy/run-deploy.ts";
import { configProblems, exampleSiteYaml, siteYamlWith } from "../support/site-fixtures.ts";

function problemsOf(text: string): LocatedProblem[] {
  return configProblems(text);
}

const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");
const passwords = {
  HARBOR_HA_REDIS_PASSWORD: "c",
  HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1",
  HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02: "a2",
};

describe("control-plane Redis config", () => {
  test("a password inside the URL is an error naming the field and the env reference to use", () => {
    const [problem] = problemsOf(
      siteYamlWith([[["controlPlane", "redisUrl"], "rediss://harbor:hunter2@10.20.0.1:6379/0"]]),
    );
    assert.equal(problem?.path, "controlPlane.redisUrl");
    assert.match(problem?.message ?? "", /credentials.*controlPlane\.auth\.controller.*passwordEnv/);
  });

  test("TLS settings on a redis:// URL are an error", () => {
    const problems = problemsOf(siteYamlWith([[["controlPlane", "redisUrl"], "redis://10.20.0.1:6379/0"]]));
    assert.deepEqual(
      problems.map((p) => p.path),
      ["controlPlane.tls"],
    );
  });

  test("a client certificate without its key is an error at the missing field", () => {
    const [problem] = problemsOf(siteYamlWith([[["controlPlane", "tls", "keyFile"], undefined]]));
    assert.equal(problem?.path, "controlPlane.tls.keyFile");
  });

  test("a password variable must be a variable's name, not a password", () => {
    const [problem] = problemsOf(
      siteYamlWith([[["controlPlane", "auth", "controller", "passwordEnv"], "s3cret!"]]),
    );
    assert.equal(problem?.path, "controlPlane.auth.controller.passwordEnv");
  });

  test("a site without ACL users is valid but warned about", () => {
    const { warnings } = parseSiteConfig(siteYamlWith([[["controlPlane", "auth"], undefined]]), "site.yaml");
    assert.deepEqual(
      warnings.map((w) => w.path),
      ["controlPlane"],
    );
    assert.match(warnings[0]?.message ?? "", /without a login/);
  });

  test("each agent has its own user and variable; node names with '-' become '_'", () => {
    assert.equal(
      agentPasswordEnv("HARBOR_HA_REDIS_AGENT_PASSWORD_", "edge-2"),
      "HARBOR_HA_REDIS_AGENT_PASSWORD_EDGE_2",
    );
    assert.deepEqual(resolveRedisCredentials(site, agentRole("node02"), passwords), {
      role: "agent:node02",
      username: "harbor-ha-agent-node02",
      password: "a2",
    });
  });

  test("an agent needs only its own password; a missing one names its variable", () => {
    assert.equal(
      resolveRedisCredentials(site, agentRole("node01"), { HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1" })
        .password,
      "a1",
    );
    assert.throws(
      () => resolveRedisCredentials(site, "controller", { HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1" }),
      /HARBOR_HA_REDIS_PASSWORD \(named by controlPlane\.auth\.controller\.passwordEnv\)/,
    );
  });

  test("deploy gives each node's secrets file its own agent password and no other role's", () => {
    const key = siteKeyFromText(renderSiteKey(), "test");
    const install = agentInstallFor(site, "config", { HARBOR_HA_PG_PASSWORD: "pg", ...passwords }, key);
    assert.deepEqual(install.env, { HARBOR_HA_PG_PASSWORD: "pg" });
    assert.deepEqual(install.nodeEnv, {
      node01: { HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1" },
      node02: { HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02: "a2" },
    });
    assert.equal(install.siteKey.key.fingerprint, key.fingerprint, "and the site key, to every node");
    assert.deepEqual(agentRedisEnv(site, "node01", passwords), {
      HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1",
    });
  });

  test("config check names every unset variable and unreadable TLS file, without connecting", () => {
    const gaps = controlPlaneGaps(site, { HARBOR_HA_REDIS_PASSWORD: "c" }, (file) => file.endsWith("ca.crt"));
    assert.deepEqual(
      gaps.map((gap) => gap.path),
      [
        "controlPlane.auth.agents.passwordEnvPrefix",
        "controlPlane.auth.agents.passwordEnvPrefix",
        "controlPlane.tls.certFile",
        "controlPlane.tls.keyFile",
      ],
    );
    assert.match(gaps[0]?.message ?? "", /HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01 is not set/);
    const onNode = controlPlaneGaps(
      site,
      { HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01: "a1" },
      () => true,
      agentRole("node01"),
    );
    assert.deepEqual(onNode, [], "a node needs only its own agent's password");
  });
});
