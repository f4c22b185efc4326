/**
 * What the control plane and an agent say to each other about one deploy step. The plan
 * (control plane) names steps; the agent's deploy executors check and apply them on its node.
 */

/** Every step of a deploy, in runbook order (DESIGN.md §2, steps 0-4). */
export type DeployStepId =
  | "host.docker"
  | "host.agent"
  | "postgres.primary"
  | "postgres.standby"
  | "postgres.replication"
  | "keepalived"
  | "harbor.redis"
  | "harbor.install"
  | "harbor.client";

/** check: report what apply would change, changing nothing. apply: make it so, then verify. */
export type StepMode = "check" | "apply";

export type StepStatus = "unchanged" | "would-change" | "changed" | "failed";

export interface StepOutcome {
  readonly status: StepStatus;
  /** One line: what is (or would be, or was) done, e.g. "pg-primary running, timeline 1". */
  readonly detail: string;
  /** Lines worth showing under the step (the runbook's replication checks, say). */
  readonly output?: readonly string[];
  /** For a failure: the tail of the failing command's output. */
  readonly outputTail?: string;
  /** For a failure: what the operator should do next. */
  readonly hint?: string;
}

/** The site-wide secrets Harbor instances must share, generated once by the control plane. */
export interface HarborSharedSecrets {
  readonly secretKey: string;
  readonly coreSecret: string;
  readonly jobserviceSecret: string;
  readonly csrfKey: string;
  readonly registryHttpSecret: string;
  /** PEM private key Harbor core signs registry tokens with. */
  readonly corePrivateKey: string;
}

export interface DeployStepRequest {
  readonly stepId: DeployStepId;
  readonly mode: StepMode;
  /** The node that runs (or is to run) the PostgreSQL primary. */
  readonly primaryNode: string;
  /**
   * For harbor.install: the SHA-256 of the sealed record of Harbor's shared secrets that the agent
   * is to read from Redis (harborSecretsKey) and open with its site key. Never the secrets
   * themselves: BullMQ keeps a payload for hours. Absent in a dry run before the first deploy.
   */
  readonly harborSecretsDigest?: string;
  /** Harbor version to install (the site's, or --harbor-version). */
  readonly harborVersion?: string;
}

export function unchangedOutcome(detail: string, output?: readonly string[]): StepOutcome {
  return output ? { status: "unchanged", detail, output } : { status: "unchanged", detail };
}

export function wouldChange(detail: string): StepOutcome {
  return { status: "would-change", detail };
}

export function changedOutcome(detail: string, output?: readonly string[]): StepOutcome {
  return output ? { status: "changed", detail, output } : { status: "changed", detail };
}

export function failedOutcome(detail: string, hint: string, outputTail?: string): StepOutcome {
  return outputTail === undefined
    ? { status: "failed", detail, hint }
    : { status: "failed", detail, hint, outputTail };
}
