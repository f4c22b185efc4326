import { join } from "node:path";
import { PayloadPathError } from "../../../support/contained-path.ts";
import { type HarborNodeLayout, harborBundlePath, harborNodeLayout } from "../../deploy/harbor-layout.ts";
import { type HarborSecretFile, harborSecretFiles } from "../../deploy/harbor-secrets.ts";
import { HarborYmlError, renderHarborYml } from "../../deploy/harbor-yml.ts";
import { type DeployStepRequest, failedOutcome, type StepOutcome } from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";
import { type DatabaseState, harborDatabaseState } from "./harbor-database.ts";
import {
  differs,
  exists,
  fingerprint,
  type InstalledHarbor,
  readInstalled,
  readTextIfExists,
  sha256File,
} from "./harbor-files.ts";
import { harborSecretsForStep } from "./harbor-secrets-read.ts";

/**
 * What harbor.install wants on this node and how far the node is from it, found without changing
 * anything: check mode reports it, apply mode acts on it.
 */

export interface HarborTarget {
  readonly version: string;
  readonly bundle: string;
  readonly layout: HarborNodeLayout;
  readonly harborYml: string;
  /** Undefined in a dry run before the control plane has made the secrets. */
  readonly secretFiles: readonly HarborSecretFile[] | undefined;
  readonly baseUrl: string;
}

export interface HarborSurvey {
  readonly bundleSha256: string;
  readonly installed: InstalledHarbor | undefined;
  readonly unpack: boolean;
  readonly writeYml: boolean;
  /** Absolute paths of the secret files that differ; undefined when the secrets are not made yet. */
  readonly secretsToWrite: readonly string[] | undefined;
  readonly inputsHash: string;
  readonly prepare: boolean;
  readonly database: DatabaseState;
}

/** The target, or the failed outcome that says why there can be none. */
export async function harborTarget(
  context: AgentContext,
  request: DeployStepRequest,
): Promise<HarborTarget | StepOutcome> {
  const { site, node, secrets } = context;
  // A dry run before the first deploy has no secrets yet: the control plane makes them on apply.
  const stepSecrets = await harborSecretsForStep(context, request);
  if (stepSecrets.kind === "unusable") return stepSecrets.outcome;
  const sharedSecrets = stepSecrets.kind === "ready" ? stepSecrets.secrets : undefined;
  if (request.mode === "apply" && stepSecrets.kind === "not-made") {
    return failedOutcome(
      `harbor.install needs the site's shared Harbor secrets: ${stepSecrets.why}`,
      "this is a bug in the plan: the control plane makes them once (generateHarborSecrets) and names them in the step",
    );
  }
  for (const [value, variable] of [
    [secrets.harborAdminPassword, site.harbor.adminPasswordEnv],
    [secrets.pgPassword, site.postgres.superuser.passwordEnv],
  ] as const) {
    if (!value) {
      return failedOutcome(
        `${variable} is empty in ${node.name}'s agent`,
        `start the agent with ${variable} set (harbor-ha agent reads it at start-up)`,
      );
    }
  }
  const version = request.harborVersion ?? site.harbor.version;
  let bundle: string;
  try {
    bundle = harborBundlePath(site, version);
  } catch (error) {
    if (!(error instanceof PayloadPathError)) throw error;
    return failedOutcome(`harbor.install refused: ${error.message}`, error.hint);
  }
  if (!(await exists(bundle))) {
    return failedOutcome(
      `installer bundle not found at ${bundle}`,
      `put Harbor's offline installer (harbor-offline-installer-v${version}.tgz) there; in the lab, \`harbor-ha lab up\` builds the stand-in bundle`,
    );
  }
  const layout = harborNodeLayout(site, node);
  let harborYml: string;
  try {
    harborYml = renderHarborYml({
      site,
      version,
      adminPassword: secrets.harborAdminPassword,
      databasePassword: secrets.pgPassword,
      dataVolume: layout.dataVolume,
      logDir: join(layout.dataDir, "log"),
    });
  } catch (error) {
    if (!(error instanceof HarborYmlError)) throw error;
    return failedOutcome(error.message, "use filesystem storage (a shared folder mounted on every node)");
  }
  return {
    version,
    bundle,
    layout,
    harborYml,
    secretFiles: sharedSecrets
      ? harborSecretFiles(sharedSecrets).map((file) => ({
          path: join(layout.dataVolume, file.path),
          content: file.content,
        }))
      : undefined,
    baseUrl: `http://${node.address}:${site.harbor.httpPort}`,
  };
}

export function isTarget(value: HarborTarget | StepOutcome): value is HarborTarget {
  return "layout" in value;
}

export async function surveyHarbor(context: AgentContext, target: HarborTarget): Promise<HarborSurvey> {
  const { layout } = target;
  const bundleSha256 = await sha256File(target.bundle);
  const installed = await readInstalled(layout);
  const unpack =
    installed?.bundleSha256 !== bundleSha256 || !(await exists(join(layout.installDir, "prepare")));
  const writeYml = unpack || (await differs(layout.harborYml, target.harborYml));
  let secretsToWrite: string[] | undefined;
  if (target.secretFiles) {
    secretsToWrite = [];
    for (const file of target.secretFiles)
      if (await differs(file.path, file.content)) secretsToWrite.push(file.path);
  }
  // prepare's output follows from these alone; the same inputs need neither prepare nor a restart.
  const inputsHash = fingerprint(
    bundleSha256,
    target.harborYml,
    ...(target.secretFiles ?? []).flatMap((file) => [file.path, file.content]),
  );
  const prepare =
    unpack ||
    secretsToWrite === undefined ||
    (await readTextIfExists(layout.preparedStamp))?.trim() !== inputsHash ||
    !(await exists(layout.composeFile));
  const database = await harborDatabaseState(context.site, context.secrets.pgPassword);
  return { bundleSha256, installed, unpack, writeYml, secretsToWrite, inputsHash, prepare, database };
}

/** The changes apply would make before starting services, in words. */
export function plannedFileChanges(target: HarborTarget, survey: HarborSurvey): string[] {
  const changes: string[] = [];
  const from = survey.installed?.version;
  if (survey.unpack) {
    changes.push(
      from && from !== target.version
        ? `upgrade the installer from v${from} to v${target.version}`
        : `unpack ${target.bundle}`,
    );
  }
  if (survey.writeYml) changes.push("write harbor.yml");
  if (survey.secretsToWrite === undefined)
    changes.push("install the shared secrets (made at the first deploy)");
  else if (survey.secretsToWrite.length > 0) {
    changes.push(`install ${survey.secretsToWrite.length} shared secret files`);
  }
  if (survey.database.kind === "missing") changes.push("create database registry");
  if (survey.prepare) changes.push("run prepare");
  return changes;
}
