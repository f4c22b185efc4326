import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crossFieldProblems } from "../../config/cross-rules.ts";
import { type LocatedProblem, parseSiteConfig } from "../../config/load.ts";
import { nodeDataPath } from "../../config/node-paths.ts";
import { missingSecrets, resolveSecrets } from "../../config/secrets.ts";
import { configProblems, exampleSiteYaml, lineOf, siteYamlWith } from "../support/site-fixtures.ts";

function problemsOf(text: string): LocatedProblem[] {
  return configProblems(text, "/etc/harbor-ha/site.yaml");
}

describe("site config: valid", () => {
  test("the commented example config is valid and gets the policy defaults", () => {
    const { site, warnings } = parseSiteConfig(exampleSiteYaml(), "site.example.yaml");
    assert.equal(site.site, "registry-prod");
    assert.deepEqual(
      site.nodes.map((node) => node.name),
      ["node01", "node02"],
    );
    assert.equal(
      site.nodes[1]?.dataRoot,
      "/var/lib/harbor-ha",
      "dataRoot defaults for the node that omits it",
    );
    assert.equal(site.nodes[1]?.dockerSocket, "/var/run/docker.sock");
    assert.equal(site.policy.probeIntervalMs, 500);
    assert.deepEqual(warnings, []);
  });

  test("a site without a policy section gets the whole default policy", () => {
    const { site } = parseSiteConfig(siteYamlWith([[["policy"], undefined]]), "site.yaml");
    assert.deepEqual(site.policy, {
      automation: true,
      probeIntervalMs: 500,
      confirmations: 2,
      maxLagBytes: 16 * 1024 * 1024,
      flapDamping: { windowMinutes: 30, maxAutoFailovers: 2 },
      primaryLeaseMs: 6_000,
      approvalExpiryMinutes: 15,
    });
  });
});

describe("site config: each kind of invalid names the file, line and path", () => {
  test("a bad node address is reported on its line", () => {
    const text = siteYamlWith([[["nodes", 1, "address"], "10.20.0.300"]]);
    const [problem, ...rest] = problemsOf(text);
    assert.deepEqual(rest, []);
    assert.equal(problem?.path, "nodes[1].address");
    assert.equal(problem?.message, "not an IPv4 address");
    assert.equal(problem?.line, lineOf(text, "10.20.0.300"));
    assert.equal(problem?.file, "/etc/harbor-ha/site.yaml");
  });

  test("every problem is reported at once, in line order", () => {
    const text = siteYamlWith([
      [["vip", "prefix"], 33],
      [["nodes", 0, "ssh", "port"], "twenty-two"],
      [["keepalived", "virtualRouterId"], 0],
      [["slack", "approvers"], []],
    ]);
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => p.path),
      ["vip.prefix", "nodes[0].ssh.port", "keepalived.virtualRouterId", "slack.approvers"],
    );
    const lines = problems.map((p) => p.line);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
    assert.equal(problems[1]?.line, lineOf(text, "port: twenty-two"));
  });

  test("a missing section is 'required' at the line of its parent", () => {
    const text = siteYamlWith([[["postgres", "superuser"], undefined]]);
    const [problem] = problemsOf(text);
    assert.equal(problem?.path, "postgres.superuser");
    assert.equal(problem?.message, "is required");
    assert.equal(problem?.line, lineOf(text, "postgres:"));
  });

  test("an unknown key is reported at the key, so a typo is found", () => {
    const text = siteYamlWith([[["keepalived", "advert_int"], 1]]);
    const [problem] = problemsOf(text);
    assert.equal(problem?.path, "keepalived.advert_int");
    assert.match(problem?.message ?? "", /unknown key/);
    assert.equal(problem?.line, lineOf(text, "advert_int:"));
  });

  test("a secret written into the file instead of a variable name is refused", () => {
    const text = siteYamlWith([[["postgres", "superuser", "passwordEnv"], "s3cret-Passw0rd!"]]);
    const [problem] = problemsOf(text);
    assert.equal(problem?.path, "postgres.superuser.passwordEnv");
    assert.match(problem?.message ?? "", /environment variable/);
  });

  test("an unknown storage kind is refused", () => {
    const [problem] = problemsOf(siteYamlWith([[["harbor", "storage", "kind"], "ftp"]]));
    assert.equal(problem?.path, "harbor.storage.kind");
  });

  test("broken YAML is reported with its line", () => {
    const text = `${exampleSiteYaml()}\nnodes: [\n`;
    const problems = problemsOf(text);
    assert.ok(problems.length >= 1);
    assert.match(problems[0]?.message ?? "", /^YAML: /);
    assert.ok((problems[0]?.line ?? 0) > lineOf(text, "approvalExpiryMinutes"));
  });
});

describe("site config: postgres.durability", () => {
  const durabilityOf = (changes: Parameters<typeof siteYamlWith>[0]) => {
    const { site, warnings } = parseSiteConfig(siteYamlWith(changes), "site.yaml");
    return { durability: site.postgres.durability, warnings: warnings.map((w) => w.path) };
  };

  test("synchronous unless the site says otherwise", () => {
    assert.deepEqual(durabilityOf([[["postgres", "durability"], undefined]]), {
      durability: "synchronous",
      warnings: [],
    });
    assert.equal(durabilityOf([[["postgres", "durability"], "strict"]]).durability, "strict");
  });

  test("the old postgres.synchronous still loads, read as durability, with a warning naming it", () => {
    for (const [old, durability] of [
      [true, "synchronous"],
      [false, "asynchronous"],
    ] as const) {
      assert.deepEqual(
        durabilityOf([
          [["postgres", "durability"], undefined],
          [["postgres", "synchronous"], old],
        ]),
        { durability, warnings: ["postgres.synchronous"] },
      );
    }
  });

  test("postgres.synchronous contradicting postgres.durability is an error naming postgres.synchronous", () => {
    const [problem] = problemsOf(
      siteYamlWith([
        [["postgres", "durability"], "strict"],
        [["postgres", "synchronous"], false],
      ]),
    );
    assert.equal(problem?.path, "postgres.synchronous");
    assert.match(problem?.message ?? "", /contradicts postgres.durability: strict/);
  });

  test("an unknown mode names the field and the modes", () => {
    const [problem] = problemsOf(siteYamlWith([[["postgres", "durability"], "sync"]]));
    assert.equal(problem?.path, "postgres.durability");
    assert.match(problem?.message ?? "", /synchronous/);
  });
});

describe("site config: cross-field rules", () => {
  test("two nodes cannot share an address", () => {
    const text = siteYamlWith([[["nodes", 1, "address"], "10.20.0.11"]]);
    const [problem] = problemsOf(text);
    assert.equal(problem?.path, "nodes[1].address");
    assert.match(problem?.message ?? "", /already the address of nodes\[0\] \(node01\)/);
    assert.equal(problem?.line, lineOf(text, "address: 10.20.0.11", "name: node02"));
  });

  test("the VIP cannot be a node's address", () => {
    const [problem] = problemsOf(siteYamlWith([[["vip", "address"], "10.20.0.12"]]));
    assert.equal(problem?.path, "vip.address");
    assert.match(problem?.message ?? "", /address of node node02/);
  });

  test("nodes must sit on the VIP's subnet", () => {
    const [problem] = problemsOf(siteYamlWith([[["nodes", 0, "address"], "10.21.0.11"]]));
    assert.equal(problem?.path, "nodes[0].address");
    assert.match(problem?.message ?? "", /outside the VIP's subnet/);
  });

  test("probe interval x confirmations must leave room inside keepalived's takeover time", () => {
    const text = siteYamlWith([
      [["policy", "probeIntervalMs"], 800],
      [["policy", "confirmations"], 2],
    ]);
    const [problem] = problemsOf(text);
    assert.equal(problem?.path, "policy.probeIntervalMs");
    assert.match(problem?.message ?? "", /1600 ms leaves no room .* 3000 ms/);
    // The same detection time fits once keepalived is slower to take over.
    const slower = siteYamlWith([
      [["policy", "probeIntervalMs"], 800],
      [["keepalived", "advertInt"], 2],
    ]);
    assert.equal(parseSiteConfig(slower, "site.yaml").site.policy.probeIntervalMs, 800);
  });

  test("a primary lease shorter than 6 probe intervals is refused: slow rounds would stop a healthy primary", () => {
    const [problem] = problemsOf(siteYamlWith([[["policy", "primaryLeaseMs"], 2_000]]));
    assert.equal(problem?.path, "policy.primaryLeaseMs");
    assert.match(problem?.message ?? "", /2000 ms is under 6 probe intervals \(3000 ms\)/);
  });

  test("ports that would collide on a node are refused", () => {
    const [problem] = problemsOf(siteYamlWith([[["harbor", "httpPort"], 5432]]));
    assert.match(problem?.message ?? "", /port 5432 is also used by postgres.port/);
  });

  test("the two-person rule with a single approver could never approve anything", () => {
    const [problem] = problemsOf(siteYamlWith([[["slack", "approvers"], ["U0123OPS1"]]]));
    assert.equal(problem?.path, "slack.twoPersonRule");
  });

  test("cross-field rules report every problem, not the first", () => {
    const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");
    const broken = {
      ...site,
      vip: { ...site.vip, address: site.nodes[0]?.address ?? "" },
      nodes: site.nodes.map((node) => ({ ...node, address: "10.20.0.11" })),
    };
    const paths = crossFieldProblems(broken).map((p) => p.path.join("."));
    assert.ok(paths.includes("vip.address"));
    assert.ok(paths.includes("nodes.1.address"));
  });

  test("a control-plane Redis on a registry node is a warning, not an error", () => {
    const { warnings } = parseSiteConfig(
      siteYamlWith([[["controlPlane", "redisUrl"], "rediss://10.20.0.11:6379/0"]]),
      "site.yaml",
    );
    assert.equal(warnings[0]?.path, "controlPlane.redisUrl");
  });
});

describe("site config: who may do what in Slack", () => {
  test("a site that names only its approvers gets the safe defaults", () => {
    const text = siteYamlWith([
      [["slack", "viewers"], undefined],
      [["slack", "operators"], undefined],
      [["slack", "changeChannels"], undefined],
      [["slack", "twoPersonRule"], undefined],
      [["slack", "approval"], undefined],
    ]);
    const { slack } = parseSiteConfig(text, "site.yaml").site;
    assert.equal(slack.viewers, "everyone");
    assert.equal(slack.operators, undefined, "absent: the approvers operate (bot/access/roles.ts)");
    assert.equal(slack.changeChannels, undefined, "absent: the alert channel only");
    assert.equal(slack.twoPersonRule, true);
    assert.deepEqual(slack.approval, { switchover: true });
  });

  test("each bad access field is named, with what it must be", () => {
    const text = siteYamlWith([
      [["slack", "viewers"], "anyone"],
      [["slack", "operators"], []],
      [["slack", "changeChannels"], ["#ops"]],
      [["slack", "approval", "switchover"], "yes"],
    ]);
    const problems = problemsOf(text);
    const byPath = new Map(problems.map((problem) => [problem.path, problem.message]));
    assert.match(byPath.get("slack.viewers") ?? "", /must be "everyone" or a list of Slack user IDs/);
    assert.match(byPath.get("slack.operators") ?? "", /name at least one operator/);
    assert.match(byPath.get("slack.changeChannels[0]") ?? "", /must be a Slack channel ID/);
    assert.ok(byPath.has("slack.approval.switchover"), [...byPath.keys()].join(", "));
  });

  test("an operator who is one of two approvers, under the two-person rule, is warned: their requests could never be approved", () => {
    const { warnings } = parseSiteConfig(
      siteYamlWith([
        [["slack", "operators"], ["U0123OPS1"]],
        [
          ["slack", "approvers"],
          ["U0123OPS1", "U0123OPS2"],
        ],
      ]),
      "site.yaml",
    );
    assert.equal(warnings[0]?.path, "slack.approvers");
    assert.match(warnings[0]?.message ?? "", /U0123OPS1 may ask .* needs 2 other approvers and there is 1/);
  });
});

describe("site secrets", () => {
  const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");

  test("every missing variable is named with the field that names it", () => {
    const env = { HARBOR_HA_PG_PASSWORD: "x" };
    assert.deepEqual(
      missingSecrets(site, env).map((ref) => ref.envName),
      ["HARBOR_HA_REPLICATION_PASSWORD", "HARBOR_HA_HARBOR_ADMIN_PASSWORD"],
    );
    assert.throws(
      () => resolveSecrets(site, env),
      /HARBOR_HA_REPLICATION_PASSWORD \(named by postgres.replication.passwordEnv\)/,
    );
  });

  test("secrets are read from the variables the file names", () => {
    const secrets = resolveSecrets(site, {
      HARBOR_HA_PG_PASSWORD: "pg",
      HARBOR_HA_REPLICATION_PASSWORD: "repl",
      HARBOR_HA_HARBOR_ADMIN_PASSWORD: "admin",
    });
    assert.deepEqual(secrets, {
      pgPassword: "pg",
      replicationPassword: "repl",
      harborAdminPassword: "admin",
    });
  });
});

describe("per-node data paths", () => {
  test("a relative data directory lands under each node's own dataRoot; an absolute one is kept", () => {
    const { site } = parseSiteConfig(
      siteYamlWith([
        [["nodes", 1, "dataRoot"], "/srv/node02"],
        [["harbor", "dataDir"], "/data/harbor"],
      ]),
      "site.yaml",
    );
    assert.deepEqual(
      site.nodes.map((node) => nodeDataPath(node, site.postgres.dataDir)),
      ["/var/lib/harbor-ha/postgres", "/srv/node02/postgres"],
    );
    assert.equal(nodeDataPath({ dataRoot: "/srv/node02" }, site.harbor.dataDir), "/data/harbor");
  });
});
