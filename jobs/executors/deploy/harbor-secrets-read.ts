import { isSealedRecord } from "../../../config/site-key-seal.ts";
import { isHarborHaError } from "../../../support/errors.ts";
import { harborSecretsKey, openHarborSecrets, recordDigest } from "../../deploy/harbor-secrets-store.ts";
import {
  type DeployStepRequest,
  failedOutcome,
  type HarborSharedSecrets,
  type StepOutcome,
} from "../../deploy/step-contract.ts";
import type { AgentContext } from "../agent-context.ts";

/** The secrets a harbor.install step names, or why there are none to install. */
export type StepSecrets =
  | { readonly kind: "ready"; readonly secrets: HarborSharedSecrets }
  /** A dry run before the first deploy: the control plane makes them on apply. */
  | { readonly kind: "not-made"; readonly why: string }
  | { readonly kind: "unusable"; readonly outcome: StepOutcome };

/**
 * The agent's side of "secrets out of job payloads": the step names the sealed record by its
 * digest, the agent reads it from Redis and opens it with its own copy of the site key. It opens
 * only a sealed record with that digest, so whoever can write Redis cannot hand a node secrets of
 * their own (a core private key they hold would let them mint registry tokens).
 */
export async function harborSecretsForStep(
  context: AgentContext,
  request: DeployStepRequest,
): Promise<StepSecrets> {
  const { site, node } = context;
  const key = harborSecretsKey(site.site);
  const digest = request.harborSecretsDigest;
  if (!digest) return { kind: "not-made", why: "the deploy names no Harbor secrets (none made yet)" };
  const text = await context.harborSecrets.read();
  const unusable = (detail: string, hint: string): StepSecrets => ({
    kind: "unusable",
    outcome: failedOutcome(`${node.name} cannot use Harbor's shared secrets: ${detail}`, hint),
  });
  if (text === null) {
    return unusable(
      `${key} is missing in the control-plane Redis`,
      "run the deploy again: it makes them anew",
    );
  }
  if (recordDigest(text) !== digest) {
    return unusable(
      `${key} is not the record the deploy read (its digest differs)`,
      "someone changed it since the deploy read it: check who can write to the control-plane Redis, then run the deploy again",
    );
  }
  if (!isSealedRecord(text)) {
    return unusable(
      `${key} is not sealed with the site key`,
      "a deploy in apply mode seals a record from an older version first: run `harbor-ha deploy` (without --dry-run)",
    );
  }
  try {
    return { kind: "ready", secrets: openHarborSecrets(text, site.site, context.siteKey).secrets };
  } catch (error) {
    if (!isHarborHaError(error)) throw error;
    return unusable(error.message, error.hint);
  }
}
