import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dryRunFrom, finishedText, planHash, planText, stepLine } from "../../bot/deploy/deploy-messages.ts";
import type { DeployPlan, PlannedStep } from "../../jobs/deploy/plan.ts";
import type { DeployEvent } from "../../jobs/deploy/run-plan.ts";

const steps: PlannedStep[] = [
  { id: "host.docker", node: "node01", runner: "ssh", title: "Docker", runbookStep: "0" },
  { id: "postgres.primary", node: "node01", runner: "agent", title: "primary", runbookStep: "1" },
] as PlannedStep[];
const plan: DeployPlan = {
  primaryNode: "node01",
  primaryReason: "a fresh site",
  harborVersion: "2.2.2",
  steps,
};

function dryRunEvents(secondStatus: "unchanged" | "would-change"): DeployEvent[] {
  return [
    { type: "plan", plan, dryRun: true },
    {
      type: "step.finished",
      index: 0,
      step: steps[0] as PlannedStep,
      outcome: { status: "unchanged", detail: "Docker 20.10 answers" },
      durationMs: 120,
    },
    {
      type: "step.finished",
      index: 1,
      step: steps[1] as PlannedStep,
      outcome: { status: secondStatus, detail: "would create the primary" },
      durationMs: 80,
    },
    {
      type: "deploy.finished",
      summary: {
        dryRun: true,
        changes: secondStatus === "would-change" ? 1 : 0,
        unchanged: 1,
        failed: undefined,
        skipped: 0,
        durationMs: 200,
      },
    },
  ] as DeployEvent[];
}
const state = { primaries: ["node01"], vipHolders: ["node01"] };

describe("a deploy in Slack's words", () => {
  test("the plan lists every step with what it would change, and the count", () => {
    const dryRun = dryRunFrom(dryRunEvents("would-change"));
    assert.ok(dryRun);
    assert.equal(
      planText(dryRun),
      [
        "Harbor 2.2.2; PostgreSQL primary on node01 (a fresh site)",
        "· 1. node01 host.docker: Docker 20.10 answers",
        "~ 2. node01 postgres.primary: would create the primary",
        "1 of 2 steps would change something",
      ].join("\n"),
    );
  });

  test("the plan's hash changes when a step's finding or the cluster changes, and only then", () => {
    const changing = dryRunFrom(dryRunEvents("would-change"));
    const settled = dryRunFrom(dryRunEvents("unchanged"));
    assert.ok(changing && settled);
    assert.equal(
      planHash(changing, state),
      planHash(dryRunFrom(dryRunEvents("would-change")) ?? changing, state),
    );
    assert.notEqual(planHash(changing, state), planHash(settled, state));
    assert.notEqual(
      planHash(changing, state),
      planHash(changing, { primaries: ["node02"], vipHolders: ["node02"] }),
    );
    assert.equal(
      planHash(changing, { primaries: ["node01"], vipHolders: ["node01"] }),
      planHash(changing, { vipHolders: ["node01"], primaries: ["node01"] }),
    );
  });

  test("a failed step's line carries its output tail and hint; the last word says where it stopped", () => {
    const line = stepLine(
      {
        type: "step.finished",
        index: 1,
        step: steps[1] as PlannedStep,
        outcome: {
          status: "failed",
          detail: "initdb failed",
          outputTail: "disk full",
          hint: "free space on node01",
        },
        durationMs: 2_500,
      },
      2,
    );
    assert.match(line, /^✗ 2\/2 \*node01\* `postgres.primary`: failed — initdb failed \(2\.5 s\)/);
    assert.match(line, /```disk full```/);
    assert.match(line, /\*hint:\* free space on node01/);
    const last = finishedText(
      {
        dryRun: false,
        changes: 1,
        unchanged: 0,
        failed: { step: steps[1] as PlannedStep, outcome: { status: "failed", detail: "x" } },
        skipped: 3,
        durationMs: 12_300,
      },
      4,
    );
    assert.match(
      last,
      /FAILED at `postgres.primary` on node01 after 12\.3 s: 1 changes made, 3 steps not run/,
    );
  });
});
