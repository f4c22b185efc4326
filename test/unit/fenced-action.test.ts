import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UnrecoverableError } from "bullmq";
import type Docker from "dockerode";
import { parseSiteConfig } from "../../config/load.ts";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { formatControllerLease } from "../../jobs/controller-lease-key.ts";
import type { AgentContext } from "../../jobs/executors/agent-context.ts";
import { PostgresStepFailure } from "../../jobs/executors/deploy/postgres-failure.ts";
import { ActionFailure } from "../../jobs/executors/remediation/action-run.ts";
import { fencedAction } from "../../jobs/executors/remediation/fenced-executor.ts";
import type { SetRoleFacts } from "../../jobs/remediation/contract.ts";
import { UpstreamWatch } from "../../jobs/upstream-watch.ts";
import { createLogger } from "../../support/logger.ts";
import { exampleSiteYaml } from "../support/site-fixtures.ts";

/** An agent's context whose only working part is the lease (the actions below touch nothing else). */
function contextWithLease(stored: string | null): AgentContext {
  const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");
  const node = site.nodes[0];
  assert.ok(node);
  return {
    site,
    node,
    docker: {} as Docker,
    secrets: { pgPassword: "", replicationPassword: "", harborAdminPassword: "" } as AgentContext["secrets"],
    logger: createLogger({ component: "test", level: "silent" }),
    startedAt: 0,
    controllerLease: { read: async () => stored },
    upstream: new UpstreamWatch(0),
    siteKey: siteKeyFromText(renderSiteKey(), "test"),
    harborSecrets: { read: async () => null },
  };
}

const lease = (token: number) => formatControllerLease({ holder: "bot@ops:1", token, expiresAt: 0 });
const facts: SetRoleFacts = { role: "primary", previousRole: "standby" };

describe("a remediation action behind the fencing-token check", () => {
  test("runs under the current token and answers with its timings", async () => {
    const executor = fencedAction("keepalived.set-role", async (_context, request, _signal, run) => {
      await run.step("write the role file", async () => {});
      return run.done(`role ${request.role}`, facts);
    });
    const result = await executor(
      contextWithLease(lease(3)),
      { fencingToken: 3, role: "primary" },
      new AbortController().signal,
    );
    assert.equal(result.ok, true);
    assert.equal(result.outcome, "done");
    assert.equal(result.detail, "role primary");
    assert.deepEqual(
      result.timings.map((t) => t.step),
      ["write the role file"],
    );
  });

  test("a stale token never reaches the action and is not retried", async () => {
    let ran = false;
    const executor = fencedAction("keepalived.set-role", async (_context, _request, _signal, run) => {
      ran = true;
      return run.done("acted", facts);
    });
    await assert.rejects(
      executor(
        contextWithLease(lease(3)),
        { fencingToken: 2, role: "primary" },
        new AbortController().signal,
      ),
      (error: unknown) =>
        error instanceof UnrecoverableError &&
        /request token 2 .*current token 3/.test((error as Error).message),
    );
    assert.equal(ran, false);
  });

  test("an expected failure is a result with its reason, hint and facts", async () => {
    const executor = fencedAction("keepalived.set-role", async () => {
      throw new ActionFailure(
        "write-failed",
        "the role file did not read back",
        "check the disk",
        undefined,
        {
          previousRole: "standby",
        },
      );
    });
    const result = await executor(
      contextWithLease(lease(1)),
      { fencingToken: 1, role: "primary" },
      new AbortController().signal,
    );
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.reason, "write-failed");
    assert.equal(result.hint, "check the disk");
    assert.equal(result.previousRole, "standby");
  });

  test("a shared PostgreSQL helper's failure is a result too; anything else is thrown", async () => {
    const failing = fencedAction("postgres.fence", async () => {
      throw new PostgresStepFailure("pg_controldata failed", "read the output", "fatal: no pg_control");
    });
    const result = await failing(
      contextWithLease(lease(1)),
      { fencingToken: 1 },
      new AbortController().signal,
    );
    assert.ok(!result.ok);
    assert.equal(result.reason, "postgres-failed");
    assert.equal(result.outputTail, "fatal: no pg_control");

    const buggy = fencedAction("postgres.fence", async () => {
      throw new TypeError("undefined is not a function");
    });
    await assert.rejects(
      buggy(contextWithLease(lease(1)), { fencingToken: 1 }, new AbortController().signal),
      TypeError,
    );
  });
});
