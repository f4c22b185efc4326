import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { controllerJobSchemas } from "../../bot/controller-jobs.ts";
import { describeSchemaError, jobSchemas } from "../../jobs/job-schemas.ts";
import { JOB_NAMES, type JobName } from "../../jobs/job-types.ts";
import { SITE_NODES, VALID_REQUESTS } from "../support/job-fixtures.ts";

const schemas = jobSchemas(SITE_NODES);

function problem(name: JobName, payload: unknown): string | undefined {
  const parsed = schemas[name].safeParse(payload);
  return parsed.success ? undefined : describeSchemaError(parsed.error);
}

describe("job payload schemas", () => {
  it("accepts a valid request of every job type", () => {
    for (const name of JOB_NAMES) assert.equal(problem(name, VALID_REQUESTS[name]), undefined, name);
  });

  it("refuses an unknown field on every job type", () => {
    for (const name of JOB_NAMES) {
      assert.match(
        problem(name, { ...VALID_REQUESTS[name], allowEverything: true }) ?? "",
        /allowEverything/,
        name,
      );
    }
  });

  it("refuses a wrong type on every field-bearing job type", () => {
    for (const name of JOB_NAMES) {
      const request = VALID_REQUESTS[name] as Record<string, unknown>;
      const [field] = Object.keys(request);
      if (field === undefined) {
        assert.notEqual(problem(name, null), undefined, name);
        continue;
      }
      assert.match(
        problem(name, { ...request, [field]: { nested: "object" } }) ?? "",
        new RegExp(field),
        name,
      );
    }
  });

  it("refuses a fencing token that is not a non-negative integer", () => {
    for (const token of [-1, 1.5, "7", null]) {
      assert.match(problem("postgres.promote", { fencingToken: token }) ?? "", /fencingToken/);
    }
  });

  it("refuses a Harbor version that would become a path", () => {
    for (const version of ["../../../../tmp/x", "2.2.2/../../x", "/tmp/x", "v2.2.2", "2.2"]) {
      const request = { ...VALID_REQUESTS["deploy.step"], harborVersion: version };
      assert.match(
        problem("deploy.step", request) ?? "",
        /harborVersion: must be a version such as 2.2.2/,
        version,
      );
    }
  });

  it("a deploy step names Harbor's sealed secrets by digest and never carries them", () => {
    const step = VALID_REQUESTS["deploy.step"];
    assert.equal(problem("deploy.step", { ...step, harborSecretsDigest: "ab".repeat(32) }), undefined);
    assert.match(
      problem("deploy.step", { ...step, harborSecretsDigest: "../../etc/shadow" }) ?? "",
      /harborSecretsDigest: not a SHA-256 digest/,
    );
    assert.match(
      problem("deploy.step", { ...step, harbor: { coreSecret: "s3cret" } }) ?? "",
      /Unrecognized key: "harbor"/,
    );
  });

  it("refuses a node that is not a node of this site, wherever a payload names one", () => {
    assert.match(
      problem("deploy.step", { ...VALID_REQUESTS["deploy.step"], primaryNode: "node09" }) ?? "",
      /primaryNode: not a node of this site \(node01, node02\)/,
    );
    const rejoin = { ...VALID_REQUESTS["postgres.rejoin"], primary: { node: "evil", address: "10.0.0.1" } };
    assert.match(problem("postgres.rejoin", rejoin) ?? "", /primary.node: not a node of this site/);
    assert.match(
      problem("postgres.rejoin", { ...rejoin, primary: { node: "node01", address: "10.0.0.1; rm -rf /" } }) ??
        "",
      /primary.address: not an IPv4 address/,
    );
  });

  it("refuses LSNs, components and roles that are not what they claim", () => {
    assert.match(
      problem("postgres.wait-replay", { fencingToken: 1, lsn: "0/1'; drop table x" }) ?? "",
      /lsn/,
    );
    assert.match(
      problem("harbor.restart", { fencingToken: 1, components: ["../../bin/sh"] }) ?? "",
      /components.0/,
    );
    assert.match(problem("keepalived.set-role", { fencingToken: 1, role: "master" }) ?? "", /role/);
    assert.match(
      problem("deploy.step", { ...VALID_REQUESTS["deploy.step"], stepId: "host.rm" }) ?? "",
      /stepId/,
    );
  });
});

describe("controller queue payload schemas", () => {
  const controller = controllerJobSchemas(SITE_NODES);
  const manual = { verb: "switchover", node: "node02", reclone: false, dryRun: false, actor: "cli:root" };

  it("accepts the jobs the bot and the CLI queue", () => {
    assert.equal(controller["manual.run"].safeParse(manual).success, true);
    assert.equal(controller["manual.run"].safeParse({ ...manual, actor: "U0LABOPS1" }).success, true);
    assert.equal(controller["deploy.run"].safeParse({ requestId: "1a2b3c4d5e6f" }).success, true);
    assert.equal(controller["remediation.run"].safeParse({ requestId: "1a2b3c4d5e6f" }).success, true);
  });

  it("refuses unknown fields, strings for booleans, foreign nodes and made-up actors", () => {
    for (const bad of [
      { ...manual, approved: true },
      { ...manual, reclone: "true" },
      { ...manual, node: "node09" },
      { ...manual, actor: "controller" },
      { ...manual, verb: "format" },
    ]) {
      assert.equal(controller["manual.run"].safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.equal(controller["remediation.run"].safeParse({ requestId: "../x" }).success, false);
  });
});
