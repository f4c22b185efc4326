import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { progressLines } from "../../cli/deploy-progress.ts";
import { parseSiteConfig } from "../../config/load.ts";
import { mergeDaemonConfig, parseDaemonConfig } from "../../jobs/deploy/daemon-config.ts";
import { buildDeployPlan, choosePrimary, type DeployPlan, type PlannedStep } from "../../jobs/deploy/plan.ts";
import { type DeployEvent, runPlan, type StepExecutor } from "../../jobs/deploy/run-plan.ts";
import type { StepOutcome } from "../../jobs/deploy/step-contract.ts";
import { exampleSiteYaml } from "../support/site-fixtures.ts";

const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");

function stepsOf(plan: DeployPlan): string[] {
  return plan.steps.map((step) => `${step.id}@${step.node ?? "site"}`);
}

describe("choosing the primary", () => {
  test("a new site puts the primary on the first node", () => {
    assert.deepEqual(choosePrimary(site, { node01: "absent", node02: "absent" }), {
      node: "node01",
      reason: "a new site: the first node, node01, gets the primary",
    });
  });

  test("a re-deploy after a failover keeps the primary where it runs now", () => {
    const chosen = choosePrimary(site, { node01: "stopped", node02: "primary" });
    assert.ok("node" in chosen);
    assert.equal(chosen.node, "node02");
  });

  test("a standby with no primary refuses the deploy: it may hold the only good copy", () => {
    for (const other of ["absent", "stopped", "unknown"] as const) {
      const chosen = choosePrimary(site, { node01: other, node02: "standby" });
      assert.ok("refuse" in chosen, other);
      assert.match(chosen.refuse.reason, /no PostgreSQL primary is running, and node02 runs a standby/);
      assert.match(chosen.refuse.hint, /harbor-ha failover --node node02/);
    }
  });

  test("two running primaries refuse the deploy", () => {
    assert.deepEqual(choosePrimary(site, { node01: "primary", node02: "primary" }), {
      conflict: ["node01", "node02"],
    });
  });
});

describe("the deploy plan", () => {
  test("follows the runbook: hosts, PostgreSQL, checks, keepalived, Harbor, client", () => {
    const plan = buildDeployPlan(site, { node: "node01", reason: "new" });
    assert.deepEqual(stepsOf(plan), [
      "host.docker@node01",
      "host.docker@node02",
      "host.agent@node01",
      "host.agent@node02",
      "postgres.primary@node01",
      "postgres.standby@node02",
      "postgres.replication@node01",
      "postgres.replication@node02",
      "keepalived@node01",
      "keepalived@node02",
      "harbor.redis@node01",
      "harbor.install@node01",
      "harbor.install@node02",
      "harbor.client@site",
    ]);
    assert.equal(plan.harborVersion, "2.2.2");
  });

  test("the primary's node goes first wherever order matters", () => {
    const plan = buildDeployPlan(site, { node: "node02", reason: "runs it now" }, "2.3.0");
    const order = (id: string) => plan.steps.filter((s) => s.id === id).map((s) => s.node);
    assert.deepEqual(order("postgres.primary"), ["node02"]);
    assert.deepEqual(order("postgres.standby"), ["node01"]);
    assert.deepEqual(order("keepalived"), ["node02", "node01"]);
    assert.deepEqual(order("harbor.install"), ["node02", "node01"]);
    assert.equal(plan.harborVersion, "2.3.0");
  });
});

describe("running a plan", () => {
  const plan = buildDeployPlan(site, { node: "node01", reason: "new" });
  const outcome = (status: StepOutcome["status"]): StepOutcome => ({ status, detail: status });

  test("a dry run checks every step and counts what would change", async () => {
    const modes: string[] = [];
    const execute: StepExecutor = async (step, mode) => {
      modes.push(mode);
      return outcome(step.id.startsWith("host") ? "unchanged" : "would-change");
    };
    const summary = await runPlan(plan, execute, { dryRun: true });
    assert.deepEqual(new Set(modes), new Set(["check"]));
    assert.equal(summary.unchanged, 4);
    assert.equal(summary.changes, plan.steps.length - 4);
  });

  test("a second run on a deployed site makes 0 changes", async () => {
    const summary = await runPlan(plan, async () => outcome("unchanged"), { dryRun: false });
    assert.equal(summary.changes, 0);
    assert.equal(summary.unchanged, plan.steps.length);
    assert.equal(
      progressLines({ type: "deploy.finished", summary })[0]?.includes(": 0 changes (made)"),
      true,
    );
  });

  test("a failed step stops the deploy: nothing after it runs", async () => {
    const ran: PlannedStep[] = [];
    const events: DeployEvent[] = [];
    const execute: StepExecutor = async (step) => {
      ran.push(step);
      if (step.id === "postgres.standby") {
        return {
          status: "failed",
          detail: "port 5432 taken",
          hint: "free the port",
          outputTail: "bind: in use",
        };
      }
      return outcome("changed");
    };
    const summary = await runPlan(plan, execute, { dryRun: false, onEvent: (e) => events.push(e) });
    assert.equal(ran.at(-1)?.id, "postgres.standby");
    assert.equal(summary.failed?.step.node, "node02");
    assert.equal(summary.changes, 5);
    assert.equal(summary.skipped, plan.steps.length - 6);
    const failedEvent = events.find((e) => e.type === "step.finished" && e.outcome.status === "failed");
    assert.ok(failedEvent, "the failed step was reported");
    const failedLines = progressLines(failedEvent);
    assert.match(
      failedLines.join("\n"),
      /✗ \[6\] node02 postgres.standby: failed — port 5432 taken[\s\S]*bind: in use[\s\S]*hint: free the port/,
    );
  });

  test("a step that throws is a failed step, not a crash", async () => {
    const summary = await runPlan(
      plan,
      async () => {
        throw new Error("queue gone");
      },
      { dryRun: false },
    );
    assert.equal(summary.failed?.outcome.detail, "queue gone");
    assert.equal(summary.failed?.step.id, "host.docker");
  });
});

describe("daemon.json for step 0", () => {
  test("adds the insecure registry and log rotation, keeping other settings", () => {
    const { config, changes } = mergeDaemonConfig(
      { debug: true, "insecure-registries": ["10.0.0.9:5000"] },
      "10.20.0.100:5000",
    );
    assert.deepEqual(config, {
      debug: true,
      "insecure-registries": ["10.0.0.9:5000", "10.20.0.100:5000"],
      "log-driver": "json-file",
      "log-opts": { "max-size": "100m", "max-file": "3" },
    });
    assert.equal(changes.length, 3);
  });

  test("a file already right changes nothing", () => {
    const right = mergeDaemonConfig({}, "10.20.0.100:5000").config;
    assert.deepEqual(mergeDaemonConfig(right, "10.20.0.100:5000").changes, []);
  });

  test("an empty file is {}, a broken one is refused", () => {
    assert.deepEqual(parseDaemonConfig("  \n"), {});
    assert.throws(() => parseDaemonConfig("[1]"), /JSON object/);
    assert.throws(() => parseDaemonConfig("{"), SyntaxError);
  });
});
