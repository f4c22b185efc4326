/**
 * No Harbor secret in what a deploy sends or writes: the step payloads BullMQ keeps, the progress
 * the CLI prints (text and --json), the Slack thread's lines and the audit entry's detail, and the
 * log lines. Run with: node --import tsx --test test/unit/deploy-secrets-leak.test.ts
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { dryRunFrom, finishedText, planText, stepLine } from "../../bot/deploy/deploy-messages.ts";
import { progressLines } from "../../cli/deploy-progress.ts";
import { parseSiteConfig } from "../../config/load.ts";
import { renderSiteKey, siteKeyFromText } from "../../config/site-key.ts";
import { deployStepRequest } from "../../jobs/deploy/deploy-site.ts";
import { generateHarborSecrets, harborSecretFiles } from "../../jobs/deploy/harbor-secrets.ts";
import {
  openHarborSecrets,
  recordDigest,
  sealHarborSecrets,
} from "../../jobs/deploy/harbor-secrets-store.ts";
import { buildDeployPlan } from "../../jobs/deploy/plan.ts";
import { type DeployEvent, runPlan } from "../../jobs/deploy/run-plan.ts";
import type { DeployStepRequest, StepOutcome } from "../../jobs/deploy/step-contract.ts";
import { plannedFileChanges } from "../../jobs/executors/deploy/harbor-install-survey.ts";
import { createLogger } from "../../support/logger.ts";
import { exampleSiteYaml } from "../support/site-fixtures.ts";

const secrets = generateHarborSecrets({ rsaBits: 1024 });
/** Every secret value, and each line of the PEM key on its own (a log may cut it in lines). */
const secretValues = [
  ...Object.values(secrets),
  ...secrets.corePrivateKey.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----")),
];

function leaks(text: string): string[] {
  return secretValues.filter((value) => text.includes(value)).map((value) => value.slice(0, 12));
}

test("a deploy's step payloads, progress, Slack lines, audit detail and log lines hold no Harbor secret", async () => {
  const { site } = parseSiteConfig(exampleSiteYaml(), "site.yaml");
  const siteKey = siteKeyFromText(renderSiteKey(), "test");
  const sealed = sealHarborSecrets(secrets, site.site, siteKey);
  const stored = openHarborSecrets(sealed, site.site, siteKey);
  const plan = buildDeployPlan(site, { node: "node01", reason: "a fresh site" });

  const lines: string[] = [];
  const logger = createLogger({
    component: "deploy",
    level: "debug",
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  const payloads: DeployStepRequest[] = [];
  const events: DeployEvent[] = [];
  for (const dryRun of [true, false]) {
    await runPlan(
      plan,
      async (step, mode): Promise<StepOutcome> => {
        if (step.runner !== "agent") return { status: "unchanged", detail: `${step.id} ok` };
        const request = deployStepRequest(step.id, mode, plan, stored);
        payloads.push(request);
        // What a job's log line carries (jobs/agent.ts logs the job's name and id, not its data),
        // and an object holding the secrets, should one ever be logged: redacted by path.
        logger.info({ event: "job.started", job: "deploy.step", step: step.id }, "deploy.step started");
        logger.debug({ request, harbor: secrets }, "debug dump");
        if (step.id !== "harbor.install") return { status: "changed", detail: `${step.id} done` };
        // harbor.install's own words about the secret files, from its survey.
        const target = {
          version: plan.harborVersion,
          bundle: "/srv/harbor.tgz",
          secretFiles: harborSecretFiles(secrets),
        } as unknown as Parameters<typeof plannedFileChanges>[0];
        const survey = {
          unpack: true,
          writeYml: true,
          secretsToWrite: harborSecretFiles(secrets).map((file) => file.path),
          prepare: true,
          database: { kind: "missing" },
        } as unknown as Parameters<typeof plannedFileChanges>[1];
        const changes = plannedFileChanges(target, survey);
        return mode === "check"
          ? { status: "would-change", detail: `would ${changes.join(", ")}` }
          : { status: "changed", detail: "installed Harbor", output: changes };
      },
      { dryRun, onEvent: (event) => events.push(event) },
    );
  }

  const install = payloads.find((request) => request.stepId === "harbor.install");
  assert.ok(install, "harbor.install was sent to an agent");
  assert.equal(install.harborSecretsDigest, recordDigest(sealed), "the step names the sealed record");
  const rendered = [
    JSON.stringify(payloads),
    ...events.map((event) => JSON.stringify(event)),
    ...events.flatMap(progressLines),
    ...events.flatMap((event) =>
      event.type === "step.finished" ? [stepLine(event, plan.steps.length)] : [],
    ),
    ...events.flatMap((event) => (event.type === "deploy.finished" ? [finishedText(event.summary)] : [])),
    planText(dryRunFrom(events) ?? assert.fail("no dry run in the events")),
    ...lines,
  ].join("\n");
  assert.match(rendered, /install 6 shared secret files/, "the install's own words are in the output");
  assert.match(lines.join(""), /\[redacted\]/, "the dumped secrets were redacted");
  assert.deepEqual(leaks(rendered), []);
});
