import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseSiteConfig } from "../../config/load.ts";
import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import { specHash } from "../../jobs/adapters/containers.ts";
import {
  BASE_PRIORITY,
  effectivePriority,
  KeepalivedConfigError,
  keepalivedLayout,
  parseRoleFile,
  renderKeepalivedConf,
  roleFileContent,
  roleOf,
} from "../../jobs/deploy/keepalived-conf.ts";
import { renderNotifyScript } from "../../jobs/deploy/keepalived-notify.ts";
import { configHash, keepalivedSpec } from "../../jobs/executors/deploy/keepalived-container.ts";
import { exampleSiteYaml, siteYamlWith } from "../support/site-fixtures.ts";

const DIR = "/var/lib/harbor-ha/keepalived";
const layout = keepalivedLayout(DIR);

function twoNodeSite(): SiteConfig {
  return parseSiteConfig(exampleSiteYaml(), "site.yaml").site;
}

function threeNodeSite(): SiteConfig {
  const third = { name: "node03", address: "10.20.0.13", ssh: { keyFile: "/etc/harbor-ha/ssh/id_ed25519" } };
  const yaml = siteYamlWith([[["nodes", 2], third]]);
  return parseSiteConfig(yaml, "site.yaml").site;
}

function nodeOf(site: SiteConfig, name: string): NodeConfig {
  const node = site.nodes.find((candidate) => candidate.name === name);
  assert.ok(node, `fixture has ${name}`);
  return node;
}

/** The config's lines, trimmed, without comments and blank lines. */
function directives(conf: string): string[] {
  return conf
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

describe("keepalived.conf for a node", () => {
  test("has one VRRP instance, BACKUP with the base priority, and no nopreempt", () => {
    const site = twoNodeSite();
    const lines = directives(renderKeepalivedConf(site, nodeOf(site, "node01"), layout));
    assert.equal(lines.filter((line) => line.startsWith("vrrp_instance ")).length, 1);
    assert.ok(lines.includes("state BACKUP"));
    assert.ok(lines.includes(`priority ${BASE_PRIORITY}`));
    assert.ok(!lines.some((line) => line.includes("nopreempt")), "nopreempt would keep the VIP on a standby");
    assert.ok(
      !lines.some((line) => line.startsWith("preempt_delay")),
      "no delay before the primary takes over",
    );
    assert.ok(!lines.some((line) => line.startsWith("virtual_server")), "VRRP only: no IPVS");
  });

  test("is the same on every node but for router_id and the unicast addresses", () => {
    const site = twoNodeSite();
    const one = directives(renderKeepalivedConf(site, nodeOf(site, "node01"), layout));
    const two = directives(renderKeepalivedConf(site, nodeOf(site, "node02"), layout));
    const differing = one.filter((line, index) => line !== two[index]);
    assert.deepEqual(differing, ["router_id node01", "unicast_src_ip 10.20.0.11", "10.20.0.12"]);
  });

  test("takes the router id, advert interval and VIP from the site config", () => {
    const yaml = siteYamlWith([
      [["keepalived", "virtualRouterId"], 77],
      [["keepalived", "advertInt"], 2.5],
      [["vip", "interface"], "bond0"],
    ]);
    const site = parseSiteConfig(yaml, "site.yaml").site;
    const lines = directives(renderKeepalivedConf(site, nodeOf(site, "node02"), layout));
    assert.ok(lines.includes("virtual_router_id 77"));
    assert.ok(lines.includes("advert_int 2.5"));
    assert.ok(lines.includes("interface bond0"));
    assert.ok(lines.includes("10.20.0.100/24 dev bond0"));
  });

  test("sends adverts from the node's address to every other node", () => {
    const site = threeNodeSite();
    const conf = renderKeepalivedConf(site, nodeOf(site, "node02"), layout);
    assert.match(conf, /unicast_src_ip 10\.20\.0\.12\n/);
    assert.match(conf, /unicast_peer \{\n\s+10\.20\.0\.11\n\s+10\.20\.0\.13\n\s+\}/);
    assert.match(conf, /check_unicast_src/);
  });

  test("tracks the role file in the node's keepalived folder and notifies the script there", () => {
    const site = twoNodeSite();
    const conf = renderKeepalivedConf(site, nodeOf(site, "node01"), layout);
    assert.match(
      conf,
      /track_file pg_role \{\n\s+file "\/var\/lib\/harbor-ha\/keepalived\/pg-role\.weight"\n\s+weight 50\n/,
    );
    assert.match(conf, /track_file \{\n\s+pg_role\n\s+\}/);
    assert.match(conf, /notify \/var\/lib\/harbor-ha\/keepalived\/notify\.sh\n/);
    assert.match(conf, /garp_master_refresh \d+/);
  });

  test("refuses a folder keepalived's parser would split", () => {
    const site = twoNodeSite();
    assert.throws(
      () => renderKeepalivedConf(site, nodeOf(site, "node01"), keepalivedLayout("/srv/harbor ha/keepalived")),
      KeepalivedConfigError,
    );
    assert.throws(() => renderNotifyScript(keepalivedLayout("/srv/it's/keepalived")), KeepalivedConfigError);
  });

  test("refuses a node that is not in the site", () => {
    const site = twoNodeSite();
    const stranger = { ...nodeOf(site, "node01"), name: "node09" };
    assert.throws(() => renderKeepalivedConf(site, stranger, layout), /node09 is not in site/);
  });
});

describe("the PostgreSQL role as a VRRP priority", () => {
  test("the primary's node advertises a higher priority than every standby's node", () => {
    assert.equal(roleOf("node01", "node01"), "primary");
    assert.equal(roleOf("node02", "node01"), "standby");
    assert.ok(effectivePriority("primary") > effectivePriority("standby"));
    assert.equal(effectivePriority("standby"), BASE_PRIORITY);
    for (const role of ["primary", "standby"] as const) {
      const priority = effectivePriority(role);
      assert.ok(priority >= 1 && priority <= 254, "inside keepalived's clamp, below the owner's 255");
    }
  });

  test("the role file round-trips, and anything else reads as no role", () => {
    assert.equal(parseRoleFile(roleFileContent("primary")), "primary");
    assert.equal(parseRoleFile(roleFileContent("standby")), "standby");
    assert.equal(parseRoleFile(undefined), undefined);
    assert.equal(parseRoleFile(""), undefined);
    assert.equal(parseRoleFile("7\n"), undefined);
  });
});

describe("keepalived's container spec", () => {
  test("a changed config changes the spec (re-create); the role never enters it (no restart)", () => {
    const site = twoNodeSite();
    const node = nodeOf(site, "node01");
    const conf = renderKeepalivedConf(site, node, layout);
    const script = renderNotifyScript(layout);
    const spec = keepalivedSpec(site, node, layout, configHash(conf, script));
    assert.equal(specHash(spec), specHash(keepalivedSpec(site, node, layout, configHash(conf, script))));
    const changed = keepalivedSpec(site, node, layout, configHash(`${conf}# more\n`, script));
    assert.notEqual(specHash(spec), specHash(changed));
    assert.doesNotMatch(JSON.stringify(spec), /pg-role|primary|standby/);
  });

  test("runs keepalived VRRP-only in the foreground with the capabilities VRRP needs", () => {
    const site = twoNodeSite();
    const spec = keepalivedSpec(site, nodeOf(site, "node02"), layout, "hash");
    assert.equal(spec.name, "keepalived-node02");
    assert.equal(spec.component, "keepalived");
    assert.deepEqual(spec.cmd, ["keepalived", "-P", "-n", "-l", "-D", "-f", layout.conf]);
    assert.deepEqual([...(spec.capAdd ?? [])].sort(), ["NET_ADMIN", "NET_BROADCAST", "NET_RAW"]);
    assert.deepEqual(spec.binds, [`${DIR}:${DIR}`]);
  });
});
