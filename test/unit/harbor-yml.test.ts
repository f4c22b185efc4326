/**
 * harbor.yml as harbor.install writes it, and as the stand-in's prepare reads it back.
 * Run with: node --import tsx --test test/unit/harbor-yml.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { parseSiteConfig } from "../../config/load.ts";
import type { SiteConfig } from "../../config/schema.ts";
import { parseHarborYml } from "../../harbor-standin/prepare/harbor-yml.ts";
import { harborBundlePath, harborNodeLayout, harborVersionTag } from "../../jobs/deploy/harbor-layout.ts";
import { HarborYmlError, type HarborYmlInput, renderHarborYml } from "../../jobs/deploy/harbor-yml.ts";
import { exampleSiteYaml, siteYamlWith } from "../support/site-fixtures.ts";

function exampleSite(): SiteConfig {
  return parseSiteConfig(exampleSiteYaml(), "site.example.yaml").site;
}

function inputFor(site: SiteConfig, overrides: Partial<HarborYmlInput> = {}): HarborYmlInput {
  const layout = harborNodeLayout(site, site.nodes[0] ?? { dataRoot: "/var/lib/harbor-ha" });
  return {
    site,
    version: site.harbor.version,
    adminPassword: "admin: pass#word",
    databasePassword: "pg-'secret\"",
    dataVolume: layout.dataVolume,
    logDir: `${layout.dataDir}/log`,
    ...overrides,
  };
}

describe("harbor.yml from the site config", () => {
  test("names the VIP, the site's port, the external database through the VIP, Redis and the shared storage", () => {
    const site = exampleSite();
    const document = parse(renderHarborYml(inputFor(site)));
    assert.equal(document.hostname, "10.20.0.100");
    assert.deepEqual(document.http, { port: site.harbor.httpPort });
    assert.equal(document.harbor_admin_password, "admin: pass#word");
    assert.equal(document.data_volume, "/var/lib/harbor-ha/harbor/data");
    assert.deepEqual(document.storage_service, { filesystem: { rootdirectory: "/mnt/harbor-shared" } });
    assert.equal(document._version, "2.2.2");
    assert.deepEqual(
      {
        host: document.external_database.harbor.host,
        port: document.external_database.harbor.port,
        db_name: document.external_database.harbor.db_name,
        username: document.external_database.harbor.username,
        password: document.external_database.harbor.password,
      },
      {
        host: "10.20.0.100",
        port: 5432,
        db_name: "registry",
        username: "postgres",
        password: "pg-'secret\"",
      },
    );
    assert.equal(document.external_redis.host, "10.20.0.11:6379");
  });

  test("the stand-in's prepare reads back exactly what harbor-ha wrote", () => {
    const site = exampleSite();
    const read = parseHarborYml(renderHarborYml(inputFor(site)));
    assert.deepEqual(read, {
      hostname: "10.20.0.100",
      httpPort: site.harbor.httpPort,
      adminPassword: "admin: pass#word",
      dataVolume: "/var/lib/harbor-ha/harbor/data",
      storageRoot: "/mnt/harbor-shared",
      version: "2.2.2",
      database: {
        host: "10.20.0.100",
        port: 5432,
        name: "registry",
        user: "postgres",
        password: "pg-'secret\"",
      },
      redis: { host: "10.20.0.11", port: 6379, password: "" },
    });
  });

  test("the same input renders the same bytes, so a second deploy has nothing to write", () => {
    const site = exampleSite();
    assert.equal(renderHarborYml(inputFor(site)), renderHarborYml(inputFor(site)));
    assert.notEqual(renderHarborYml(inputFor(site)), renderHarborYml(inputFor(site, { version: "2.3.0" })));
  });

  test("S3 storage is refused with a sentence naming the keys the agents do not have", () => {
    const site = parseSiteConfig(
      siteYamlWith([
        [
          ["harbor", "storage"],
          { kind: "s3", bucket: "b", region: "r", accessKeyEnv: "S3_ACCESS", secretKeyEnv: "S3_SECRET" },
        ],
      ]),
      "site.yaml",
    ).site;
    assert.throws(
      () => renderHarborYml(inputFor(site)),
      (error: unknown) => {
        assert.ok(error instanceof HarborYmlError);
        assert.match(error.message, /s3 is not supported.*S3_ACCESS and S3_SECRET/);
        return true;
      },
    );
  });
});

describe("the stand-in's harbor.yml reader", () => {
  test("refuses a harbor.yml without an external database, naming the key", () => {
    assert.throws(
      () => parseHarborYml("hostname: h\nharbor_admin_password: p\n"),
      /external_database\.harbor is required/,
    );
  });

  test("refuses https and non-filesystem storage, which the stand-in cannot serve", () => {
    const base = renderHarborYml(inputFor(exampleSite()));
    assert.throws(() => parseHarborYml(`${base}https:\n  port: 443\n`), /https is not supported/);
    const s3 = base.replace(/storage_service:\n(?: {2}.*\n)+/, "storage_service:\n  s3:\n    bucket: b\n");
    assert.throws(() => parseHarborYml(s3), /storage_service\.s3 is not supported/);
  });
});

describe("where Harbor lives on a node", () => {
  test("every path is under the node's harbor dataDir, and another version's bundle sits beside the site's", () => {
    const site = exampleSite();
    const layout = harborNodeLayout(site, { dataRoot: "/srv/ha" });
    assert.deepEqual(layout, {
      dataDir: "/srv/ha/harbor",
      installDir: "/srv/ha/harbor/harbor",
      dataVolume: "/srv/ha/harbor/data",
      redisDir: "/srv/ha/harbor/redis",
      stateFile: "/srv/ha/harbor/harbor-ha.json",
      harborYml: "/srv/ha/harbor/harbor/harbor.yml",
      composeFile: "/srv/ha/harbor/harbor/docker-compose.yml",
      preparedStamp: "/srv/ha/harbor/harbor/.harbor-ha-prepared",
    });
    assert.equal(harborBundlePath(site, "2.2.2"), "/opt/harbor/harbor-offline-installer-v2.2.2.tgz");
    assert.equal(harborBundlePath(site, "2.3.0"), "/opt/harbor/harbor-offline-installer-v2.3.0.tgz");
    assert.equal(harborVersionTag("2.3.0"), "v2.3.0");
    assert.equal(harborVersionTag("v2.3.0"), "v2.3.0");
  });
});
