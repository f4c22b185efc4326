import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HarborHealth } from "../../jobs/deploy/harbor-health.ts";
import {
  chooseTargets,
  failingComponents,
  type HarborContainer,
} from "../../jobs/remediation/harbor-targets.ts";

const CONTAINERS: HarborContainer[] = [
  { name: "harbor-core", service: "core", running: true },
  { name: "harbor-redis", service: undefined, running: true },
  { name: "harbor-registry", service: "registry", running: true },
];

function health(unhealthy: Record<string, string> = {}): HarborHealth {
  const components = ["core", "database", "redis", "registry"].map((name) =>
    unhealthy[name] ? { name, status: "unhealthy", error: unhealthy[name] } : { name, status: "healthy" },
  );
  return { healthy: Object.keys(unhealthy).length === 0, components };
}

describe("which Harbor containers harbor.restart restarts", () => {
  test("a healthy node with nothing named: none", () => {
    assert.deepEqual(chooseTargets(CONTAINERS, health(), undefined), { ok: true, targets: [], why: [] });
  });

  test("names may be containers, compose services or health components; core restarts last", () => {
    const choice = chooseTargets(CONTAINERS, health(), ["core", "registry", "harbor-redis"]);
    assert.ok(choice.ok);
    assert.deepEqual(choice.targets, ["harbor-redis", "harbor-registry", "harbor-core"]);
  });

  test("an unknown name is refused, naming it", () => {
    assert.deepEqual(chooseTargets(CONTAINERS, health(), ["core", "jobservice"]), {
      ok: false,
      unknown: ["jobservice"],
    });
  });

  test("without names: the stopped ones and those of unhealthy components", () => {
    const containers = CONTAINERS.map((c) => (c.name === "harbor-redis" ? { ...c, running: false } : c));
    const choice = chooseTargets(containers, health({ registry: "connection refused" }), []);
    assert.ok(choice.ok);
    assert.deepEqual(choice.targets, ["harbor-redis", "harbor-registry"]);
    assert.deepEqual(choice.why, [
      "harbor-redis is not running",
      "harbor-registry: registry connection refused",
    ]);
  });

  test("a health endpoint that does not answer restarts the API's container", () => {
    const choice = chooseTargets(CONTAINERS, undefined, undefined);
    assert.ok(choice.ok);
    assert.deepEqual(choice.targets, ["harbor-core"]);
  });

  test("an unhealthy database has no container here: nothing to restart, and it stays failing", () => {
    const reading = health({ database: "connection refused" });
    assert.deepEqual(chooseTargets(CONTAINERS, reading, undefined), { ok: true, targets: [], why: [] });
    assert.deepEqual(failingComponents(reading), ["database"]);
  });
});
