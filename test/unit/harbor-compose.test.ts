/**
 * `compose up` without a compose binary: docker-compose.yml read into container specs, and what
 * is refused rather than silently ignored. Also Harbor's health as harbor-ha reads it.
 * Run with: node --import tsx --test test/unit/harbor-compose.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { specHash } from "../../jobs/adapters/containers.ts";
import { ComposeError, composeServices, withInputsLabel } from "../../jobs/deploy/harbor-compose.ts";
import { describeHarborHealth, isHarborVersion, parseHarborHealth } from "../../jobs/deploy/harbor-health.ts";
import { failureReason } from "../../jobs/deploy/harbor-skopeo.ts";
import { listenerPids } from "../../jobs/executors/deploy/harbor-ports.ts";

const BASE = "/data/harbor/harbor";

function compose(services: Record<string, Record<string, unknown>>): string {
  return JSON.stringify({ version: "2.3", services }); // JSON is YAML too
}

const web = (extra: Record<string, unknown> = {}) => ({ image: "img", network_mode: "host", ...extra });

describe("docker-compose.yml as container specs", () => {
  test("orders services after what they depend on and maps every supported key", () => {
    const services = composeServices(
      compose({
        core: web({
          depends_on: ["db"],
          container_name: "harbor-core",
          command: "node main.js",
          user: "10000",
        }),
        db: web({
          environment: ["A=1", "B=x=y"],
          volumes: ["./common/db/:/etc/db/:ro,z", "/srv/data:/data:z"],
          labels: { "io.harbor-ha.component": "harbor-db" },
          stop_signal: "SIGINT",
          working_dir: "/data",
          restart: "no",
        }),
      }),
      BASE,
    );
    assert.deepEqual(
      services.map((s) => s.service),
      ["db", "core"],
    );
    const [db, core] = services;
    assert.deepEqual(db?.spec, {
      name: "harbor-db",
      image: "img",
      component: "harbor-db",
      cmd: [],
      env: { A: "1", B: "x=y" },
      binds: ["/data/harbor/harbor/common/db:/etc/db/:ro", "/srv/data:/data"],
      stopSignal: "SIGINT",
      workingDir: "/data",
      labels: { "io.harbor-ha.component": "harbor-db", "io.harbor-ha.compose-service": "db" },
    });
    assert.deepEqual(
      [core?.spec.name, core?.spec.component, core?.spec.user],
      ["harbor-core", "harbor", "10000"],
    );
    assert.deepEqual(core?.spec.cmd, ["node", "main.js"]);
  });

  for (const [situation, services, message] of [
    ["a key harbor-ha does not run", { a: web({ ports: ["80:80"] }) }, /compose key ports is not supported/],
    ["a bridge network", { a: { image: "img" } }, /network_mode must be host/],
    ["a Docker restart policy", { a: web({ restart: "always" }) }, /restart must be "no"/],
    ["a named volume", { a: web({ volumes: ["data:/data"] }) }, /named volume data is not supported/],
    ["a dependency cycle", { a: web({ depends_on: ["b"] }), b: web({ depends_on: ["a"] }) }, /cycle/],
    ["an unknown dependency", { a: web({ depends_on: ["x"] }) }, /depends on x, which is not defined/],
  ] as const) {
    test(`refuses ${situation}, naming it`, () => {
      assert.throws(
        () => composeServices(compose(services as Record<string, Record<string, unknown>>), BASE),
        (error: unknown) => error instanceof ComposeError && message.test(error.message),
      );
    });
  }

  test("new inputs (bundle, harbor.yml, secrets) change the spec hash, so the containers are re-created", () => {
    const services = composeServices(compose({ a: web() }), BASE);
    const [first] = withInputsLabel(services, "inputs-1");
    const [same] = withInputsLabel(services, "inputs-1");
    const [next] = withInputsLabel(services, "inputs-2");
    assert.ok(first && same && next);
    assert.equal(specHash(first.spec), specHash(same.spec));
    assert.notEqual(specHash(first.spec), specHash(next.spec));
  });
});

describe("Harbor's health and version as harbor-ha reads them", () => {
  test("names the failing components and their errors", () => {
    const health = parseHarborHealth({
      status: "unhealthy",
      components: [
        { name: "core", status: "healthy" },
        { name: "database", status: "unhealthy", error: "timeout expired" },
      ],
    });
    assert.ok(health);
    assert.equal(health.healthy, false);
    assert.equal(describeHarborHealth(health), "unhealthy: database: timeout expired");
    const healthy = parseHarborHealth({
      status: "healthy",
      components: [{ name: "core", status: "healthy" }],
    });
    assert.equal(healthy && describeHarborHealth(healthy), "healthy (core)");
    assert.equal(parseHarborHealth({ status: "healthy" }), undefined);
    assert.equal(parseHarborHealth("Pong"), undefined);
  });

  test("a build suffix still counts as the version asked for", () => {
    assert.equal(isHarborVersion("v2.2.2-56d7937f", "2.2.2"), true);
    assert.equal(isHarborVersion("v2.2.2", "v2.2.2"), true);
    assert.equal(isHarborVersion("v2.2.20-x", "2.2.2"), false);
  });

  test("skopeo's fatal line is shortened to its message", () => {
    const output =
      'Getting image source signatures\ntime="2026-11-25T17:42:34Z" level=fatal msg="reading manifest latest in 10.77.0.100:5000/library/x: unauthorized"';
    assert.equal(
      failureReason(output),
      "reading manifest latest in 10.77.0.100:5000/library/x: unauthorized",
    );
  });

  test("ss output names the processes that hold a port", () => {
    const ss =
      'LISTEN 0 5 10.77.0.12:5000 0.0.0.0:* users:(("python3",pid=16151,fd=3))\nLISTEN 0 511 0.0.0.0:5000 0.0.0.0:* users:(("node",pid=7,fd=18),("node",pid=8,fd=18))';
    assert.deepEqual(listenerPids(ss), [16151, 7, 8]);
  });
});
