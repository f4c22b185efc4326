/**
 * The Harbor stand-in's pure parts: basic auth, the health answer, what prepare generates, and
 * the headers the registry proxy forwards.
 * Run with: node --import tsx --test test/unit/harbor-standin.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { isAuthorized, parseBasicAuth, unauthorizedResponse } from "../../harbor-standin/core/basic-auth.ts";
import { componentHealth, overallHealth } from "../../harbor-standin/core/health.ts";
import { forwardedHeaders } from "../../harbor-standin/core/registry-proxy.ts";
import { healthAnswer } from "../../harbor-standin/core/server.ts";
import type { HarborYml } from "../../harbor-standin/prepare/harbor-yml.ts";
import {
  composeFile,
  coreConfig,
  type PrepareInput,
  registryConfig,
} from "../../harbor-standin/prepare/render.ts";
import { composeServices } from "../../jobs/deploy/harbor-compose.ts";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** harbor.yml of a two-node site whose shared folder is /srv/shared. */
function labHarborYml(): HarborYml {
  return {
    hostname: "10.77.0.100",
    httpPort: 5000,
    adminPassword: "s3cret",
    dataVolume: "/var/lib/harbor-ha/harbor/data",
    storageRoot: "/srv/shared",
    version: "2.2.2",
    database: { host: "10.77.0.100", port: 5432, name: "registry", user: "postgres", password: "pg" },
    redis: { host: "10.77.0.11", port: 6379, password: "" },
  };
}

function prepareInput(): PrepareInput {
  return {
    harbor: labHarborYml(),
    secrets: { registryHttpSecret: "SharedHttpSecret" },
    image: "harbor-ha/node:bookworm",
    versionTag: "v2.2.2",
  };
}

describe("basic auth on the registry API", () => {
  const admin = { username: "admin", password: "pa:ss word" };

  test("accepts the admin's credentials, a password with a colon included", () => {
    assert.deepEqual(parseBasicAuth(basic("admin", "pa:ss word")), admin);
    assert.equal(isAuthorized(basic("admin", "pa:ss word"), admin), true);
  });

  test("refuses no header, a wrong password, another user, and other schemes", () => {
    assert.equal(isAuthorized(undefined, admin), false);
    assert.equal(isAuthorized(basic("admin", "pa:ss"), admin), false);
    assert.equal(isAuthorized(basic("root", "pa:ss word"), admin), false);
    assert.equal(isAuthorized("Bearer abc", admin), false);
    assert.equal(isAuthorized("Basic !!!", admin), false);
  });

  test("answers 401 with a Basic challenge and the registry API version, as docker login needs", () => {
    const response = unauthorizedResponse();
    assert.equal(response.status, 401);
    assert.equal(response.headers["WWW-Authenticate"], 'Basic realm="harbor"');
    assert.equal(response.headers["Docker-Distribution-Api-Version"], "registry/2.0");
    assert.equal(JSON.parse(response.body).errors[0].code, "UNAUTHORIZED");
  });

  test("the proxy does not pass the credentials on to the registry", () => {
    const headers = forwardedHeaders({
      authorization: basic("admin", "x"),
      host: "10.77.0.100:5000",
      connection: "keep-alive",
    });
    assert.deepEqual(headers, { host: "10.77.0.100:5000" });
  });
});

describe("the health answer", () => {
  test("is healthy when every check passes, components in Harbor's order", async () => {
    const health = await healthAnswer({
      database: async () => undefined,
      redis: async () => undefined,
      registry: async () => undefined,
    });
    assert.deepEqual(health, {
      status: "healthy",
      components: [
        { name: "core", status: "healthy" },
        { name: "database", status: "healthy" },
        { name: "redis", status: "healthy" },
        { name: "registry", status: "healthy" },
      ],
    });
  });

  test("a failing or throwing check makes its component and the whole unhealthy, with the error", async () => {
    const health = await healthAnswer({
      database: async () => "10.77.0.100:5432/registry: connect ECONNREFUSED",
      redis: async () => {
        throw new Error("boom");
      },
      registry: async () => undefined,
    });
    assert.equal(health.status, "unhealthy");
    assert.deepEqual(
      health.components.filter((c) => c.status !== "healthy"),
      [
        { name: "database", status: "unhealthy", error: "10.77.0.100:5432/registry: connect ECONNREFUSED" },
        { name: "redis", status: "unhealthy", error: "boom" },
      ],
    );
  });

  test("sorts components whatever order they come in", () => {
    const health = overallHealth([
      componentHealth("registry", undefined),
      componentHealth("core", undefined),
    ]);
    assert.deepEqual(
      health.components.map((c) => c.name),
      ["core", "registry"],
    );
  });
});

describe("what prepare generates", () => {
  test("the registry stores on the shared folder with the shared http.secret and no blob descriptor cache", () => {
    const config = parse(registryConfig(prepareInput()));
    assert.equal(config.http.secret, "SharedHttpSecret");
    assert.equal(config.http.addr, "127.0.0.1:5001");
    assert.equal(config.http.relativeurls, true);
    assert.deepEqual(config.storage.filesystem, { rootdirectory: "/storage" });
    assert.equal(config.storage.cache, undefined, "LAB.md pitfall 15: no in-memory blob descriptor cache");
  });

  test("the core listens on every address of the node at Harbor's port and checks through the VIP", () => {
    const config = coreConfig(prepareInput());
    assert.deepEqual(config.listen, { host: "0.0.0.0", port: 5000 });
    assert.equal(config.database.host, "10.77.0.100");
    assert.equal(config.harborVersion, "v2.2.2-standin");
    assert.deepEqual(config.admin, { username: "admin", password: "s3cret" });
  });

  test("docker-compose.yml runs the registry, then the core, host network, restart no, labelled harbor", () => {
    const text = composeFile(prepareInput());
    assert.match(text, /restart: "no"/, "quoted, or docker-compose's YAML 1.1 reads false");
    const services = composeServices(text, "/var/lib/harbor-ha/harbor/harbor");
    assert.deepEqual(
      services.map(({ service, spec }) => [service, spec.name, spec.component]),
      [
        ["registry", "harbor-registry", "harbor"],
        ["core", "harbor-core", "harbor"],
      ],
    );
    assert.deepEqual(services[0]?.spec.binds, [
      "/var/lib/harbor-ha/harbor/harbor/common/config/registry:/etc/registry/:ro",
      "/srv/shared:/storage",
    ]);
    assert.deepEqual(services[1]?.spec.cmd, [
      "node",
      "/harbor/standin/harbor-core.cjs",
      "/etc/core/config.json",
    ]);
  });
});
