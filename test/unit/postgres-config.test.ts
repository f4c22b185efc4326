import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseSiteConfig } from "../../config/load.ts";
import type { SiteConfig } from "../../config/schema.ts";
import {
  changedSettings,
  conninfoValue,
  ipv4Network,
  parseConfSettings,
  postgresContainerSpec,
  primaryConninfo,
  renderPgHba,
  renderPostgresqlConf,
} from "../../jobs/deploy/postgres-config.ts";
import { exampleSiteYaml, siteYamlWith } from "../support/site-fixtures.ts";

const site = (): SiteConfig => parseSiteConfig(exampleSiteYaml(), "site.yaml").site;
const siteWithDurability = (durability: string): SiteConfig =>
  parseSiteConfig(siteYamlWith([[["postgres", "durability"], durability]]), "site.yaml").site;
const node = (s: SiteConfig, index: number) => {
  const found = s.nodes[index];
  assert.ok(found);
  return found;
};
const standbyOf = (s: SiteConfig, password = "s3cret") => ({
  primary: node(s, 0),
  replicationPassword: password,
});

describe("postgres container", () => {
  test("is named after the node, runs as postgres with a fast-shutdown stop signal and the node's data folder", () => {
    const s = site();
    const spec = postgresContainerSpec(s, node(s, 0));
    assert.equal(spec.name, "pg-node01");
    assert.equal(spec.component, "postgres");
    assert.equal(spec.user, "postgres");
    assert.equal(spec.stopSignal, "SIGINT");
    assert.deepEqual(spec.binds, ["/var/lib/harbor-ha/postgres:/var/lib/postgresql/data"]);
    assert.deepEqual(spec.cmd, ["postgres", "-D", "/var/lib/postgresql/data"]);
  });

  test("carries no settings, so one spec serves either role and a settings change needs no re-create", () => {
    const s = site();
    const spec = postgresContainerSpec(s, node(s, 1));
    assert.equal(JSON.stringify(spec).includes("wal_level"), false);
    assert.equal(spec.name, "pg-node02");
  });
});

describe("postgresql.conf", () => {
  test("has what failover needs: replica WAL, hints for pg_rewind, hot standby, senders, kept WAL, no JIT", () => {
    const s = site();
    const settings = parseConfSettings(renderPostgresqlConf(s, node(s, 0)));
    assert.equal(settings.get("wal_level"), "'replica'");
    assert.equal(settings.get("wal_log_hints"), "'on'");
    assert.equal(settings.get("hot_standby"), "'on'");
    assert.equal(settings.get("max_wal_senders"), "'10'");
    assert.equal(settings.get("max_replication_slots"), "'10'");
    assert.equal(settings.get("wal_keep_size"), "'1GB'");
    assert.equal(settings.get("jit"), "'off'");
    assert.equal(settings.get("password_encryption"), "'scram-sha-256'");
    assert.equal(settings.get("port"), "'5432'");
    assert.equal(settings.get("cluster_name"), "'node01'");
  });

  test("listens on every IPv4 address, so the VIP that arrives after the start is served", () => {
    const s = site();
    assert.equal(parseConfSettings(renderPostgresqlConf(s, node(s, 0))).get("listen_addresses"), "'0.0.0.0'");
  });

  test("waits for any one other node, by name, unless postgres.durability is asynchronous", () => {
    const s = siteWithDurability("asynchronous");
    assert.equal(
      parseConfSettings(renderPostgresqlConf(s, node(s, 0))).get("synchronous_standby_names"),
      "''",
    );
    const strict = siteWithDurability("strict");
    assert.equal(
      parseConfSettings(renderPostgresqlConf(strict, node(strict, 0))).get("synchronous_standby_names"),
      `'ANY 1 ("node02")'`,
    );
    const sync = site();
    assert.equal(sync.postgres.durability, "synchronous", "the default");
    assert.equal(
      parseConfSettings(renderPostgresqlConf(sync, node(sync, 0))).get("synchronous_standby_names"),
      `'ANY 1 ("node02")'`,
    );
    assert.equal(
      parseConfSettings(renderPostgresqlConf(sync, node(sync, 1))).get("synchronous_standby_names"),
      `'ANY 1 ("node01")'`,
      "never *: a pg_basebackup stream would count as a standby",
    );
  });

  test("a primary's has no primary_conninfo; a standby's points at the primary's own address as itself", () => {
    const s = site();
    assert.equal(parseConfSettings(renderPostgresqlConf(s, node(s, 0))).has("primary_conninfo"), false);
    const standby = renderPostgresqlConf(s, node(s, 1), standbyOf(s));
    assert.match(
      standby,
      /^primary_conninfo = 'host=10\.20\.0\.11 port=5432 user=replicator password=s3cret application_name=node02'$/m,
    );
    assert.doesNotMatch(standby, /10\.20\.0\.100/, "never the VIP: it moves with the role");
  });

  test("primary and standby differ only in cluster_name, primary_conninfo and whom they wait for", () => {
    const s = site();
    assert.deepEqual(
      changedSettings(renderPostgresqlConf(s, node(s, 0)), renderPostgresqlConf(s, node(s, 1), standbyOf(s))),
      ["cluster_name", "primary_conninfo", "synchronous_standby_names"],
    );
    const async = siteWithDurability("asynchronous");
    assert.deepEqual(
      changedSettings(
        renderPostgresqlConf(async, node(async, 0)),
        renderPostgresqlConf(async, node(async, 1), standbyOf(async)),
      ),
      ["cluster_name", "primary_conninfo"],
    );
  });

  test("a password with quotes, spaces or backslashes survives conninfo and postgresql.conf quoting", () => {
    assert.equal(conninfoValue("plain-Value_1.x"), "plain-Value_1.x");
    assert.equal(conninfoValue("it's a \\ test"), "'it\\'s a \\\\ test'");
    const s = site();
    const text = renderPostgresqlConf(s, node(s, 1), standbyOf(s, "it's \\"));
    // conninfo: password='it\'s \\'; postgresql.conf then doubles each quote and each backslash.
    assert.match(text, /password=''it\\\\''s \\\\\\\\'' application_name/);
  });

  test("a change is described by the names of the settings, never their values", () => {
    const s = site();
    const before = renderPostgresqlConf(s, node(s, 1), standbyOf(s, "old-password"));
    const after = renderPostgresqlConf(s, node(s, 1), standbyOf(s, "new-password"));
    const names = changedSettings(before, after);
    assert.deepEqual(names, ["primary_conninfo"]);
    assert.equal(names.join(" ").includes("password"), false);
  });

  test("initdb's own file, with comments and bare values, parses to its settings", () => {
    const settings = parseConfSettings(
      "#listen_addresses = 'localhost'\nmax_connections = 100   # (change requires restart)\n" +
        "log_line_prefix = '%m # [%p] '\ndynamic_shared_memory_type = posix\n",
    );
    assert.deepEqual(
      [...settings],
      [
        ["max_connections", "100"],
        ["log_line_prefix", "'%m # [%p] '"],
        ["dynamic_shared_memory_type", "posix"],
      ],
    );
  });
});

describe("pg_hba.conf", () => {
  test("the site's subnet (host bits cleared) gets scram for all and for replication; local is peer", () => {
    const text = renderPgHba(site());
    const rows = text
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(/\s+/).join(" "));
    assert.deepEqual(rows, [
      "local all postgres peer",
      "host all all 127.0.0.1/32 scram-sha-256",
      "host all all 10.20.0.0/24 scram-sha-256",
      "host replication replicator 127.0.0.1/32 scram-sha-256",
      "host replication replicator 10.20.0.0/24 scram-sha-256",
    ]);
    assert.doesNotMatch(text, /\btrust\b|\bmd5\b|\bpassword\b/);
  });

  test("network addresses are computed from any address and prefix", () => {
    assert.equal(ipv4Network("10.77.0.100", 24), "10.77.0.0/24");
    assert.equal(ipv4Network("192.168.5.130", 25), "192.168.5.128/25");
    assert.equal(ipv4Network("172.16.255.1", 12), "172.16.0.0/12");
    assert.equal(ipv4Network("10.0.0.7", 32), "10.0.0.7/32");
    assert.equal(ipv4Network("255.255.255.255", 1), "128.0.0.0/1");
  });

  test("primary_conninfo uses the site's port and replication user", () => {
    const s = parseSiteConfig(
      siteYamlWith([
        [["postgres", "port"], 6543],
        [["postgres", "replication", "user"], "repl"],
      ]),
      "site.yaml",
    ).site;
    assert.equal(
      primaryConninfo(s, "node02", standbyOf(s, "pw")),
      "host=10.20.0.11 port=6543 user=repl password=pw application_name=node02",
    );
  });
});
