import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseSiteConfig } from "../../config/load.ts";
import { HarborHaError } from "../../support/errors.ts";
import { ListenAddressError, parseListenAddress } from "../../support/metrics-server.ts";
import { siteYamlWith } from "../support/site-fixtures.ts";

describe("the agent's metrics endpoint in the site config", () => {
  test("a site without an agent section gets metrics on port 9464", () => {
    const { site } = parseSiteConfig(siteYamlWith([[["agent"], undefined]]), "site.yaml");
    assert.deepEqual(site.agent, { metricsPort: 9464 });
  });

  test("port 0 turns it off", () => {
    assert.equal(
      parseSiteConfig(siteYamlWith([[["agent", "metricsPort"], 0]]), "site.yaml").site.agent.metricsPort,
      0,
    );
  });

  test("a metrics port that another service of the node uses is refused", () => {
    try {
      parseSiteConfig(siteYamlWith([[["agent", "metricsPort"], 5432]]), "site.yaml");
      assert.fail("the clash was accepted");
    } catch (error) {
      assert.ok(error instanceof HarborHaError);
      const problems = error.context.problems as Array<{ path: string; message: string }>;
      assert.deepEqual(
        problems.map((problem) => [problem.path, problem.message]),
        [
          [
            "agent.metricsPort",
            "port 5432 is also used by postgres.port on the same node (agent.metricsPort)",
          ],
        ],
      );
    }
  });
});

describe("--metrics-listen", () => {
  test("HOST:PORT for IPv4 and [IPv6]:PORT", () => {
    assert.deepEqual(parseListenAddress("10.77.0.11:9464"), { host: "10.77.0.11", port: 9464 });
    assert.deepEqual(parseListenAddress("[::1]:9464"), { host: "::1", port: 9464 });
  });

  test("off, or port 0, means no endpoint", () => {
    assert.equal(parseListenAddress("off"), undefined);
    assert.equal(parseListenAddress("127.0.0.1:0"), undefined);
  });

  test("anything else is refused with the expected form", () => {
    for (const text of ["9464", "localhost:9464", "10.77.0.11", "10.77.0.11:99999", "::1:9464", ""]) {
      assert.throws(() => parseListenAddress(text), ListenAddressError, text);
    }
  });
});
