import { z } from "zod";
import { harborVersion, ipv4, name as nameRule } from "../config/schema.ts";
import type { DeployStepId } from "./deploy/step-contract.ts";
import type { JobName, JobRequest } from "./job-types.ts";

/**
 * What each job's payload may hold, checked by the agent after the signature and before any
 * effect: strict objects (an unknown field is refused), names and versions by the config's own
 * rules, and node names that must be nodes of this site. A valid signature says who sent a job,
 * not that its sender made no mistake; the schema is the second wall.
 */

const DEPLOY_STEP_IDS = [
  "host.docker",
  "host.agent",
  "postgres.primary",
  "postgres.standby",
  "postgres.replication",
  "keepalived",
  "harbor.redis",
  "harbor.install",
  "harbor.client",
] as const satisfies readonly DeployStepId[];
// Both ways: a step added to DeployStepId without a schema entry is a compile error here.
type MissingStepIds = Exclude<DeployStepId, (typeof DEPLOY_STEP_IDS)[number]>;
const everyStepId: MissingStepIds extends never ? true : never = true;
void everyStepId;

/** A PostgreSQL LSN as pg_lsn prints it ("0/3000060"). */
const lsn = z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, { message: "not an LSN such as 0/3000060" });
const fencingToken = z.number().int().min(0);
/** A Harbor container, compose service or health component: a name, never a path or a flag. */
const componentName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, {
  message: "not a component name (lowercase letters, digits, '_', '.', '-')",
});
export type JobSchemas = { readonly [N in JobName]: z.ZodType<JobRequest<N>> };

/** The schemas for one site: its node names are the only ones a payload may name. */
export function jobSchemas(nodeNames: readonly string[]): JobSchemas {
  const siteNode = nameRule.refine((value) => nodeNames.includes(value), {
    message: `not a node of this site (${nodeNames.join(", ")})`,
  });
  const fenced = z.strictObject({ fencingToken });
  return {
    ping: z.strictObject({ sentAt: z.number().int().min(0) }),
    "postgres.role": z.strictObject({}),
    "deploy.step": z.strictObject({
      stepId: z.enum(DEPLOY_STEP_IDS),
      mode: z.enum(["check", "apply"]),
      primaryNode: siteNode,
      // The sealed record's SHA-256: the payload names Harbor's secrets, never carries them.
      harborSecretsDigest: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: "not a SHA-256 digest (64 hex digits)" })
        .optional(),
      harborVersion: harborVersion.optional(),
    }),
    "postgres.fence": fenced,
    "postgres.promote": z.strictObject({
      fencingToken,
      oldPrimaryLastLsn: lsn.optional(),
      upstreamQuietMs: z.number().int().min(0).max(600_000).optional(),
      commitAlone: z.boolean().optional(),
    }),
    "postgres.restart": z.strictObject({ fencingToken, allowPrimary: z.boolean().optional() }),
    "postgres.rejoin": z.strictObject({
      fencingToken,
      primary: z.strictObject({ node: siteNode, address: ipv4 }),
      allowReclone: z.boolean().optional(),
    }),
    "postgres.block-writes": fenced,
    "postgres.allow-writes": fenced,
    "postgres.wait-replay": z.strictObject({
      fencingToken,
      lsn,
      timeoutMs: z.number().int().min(1).max(125_000).optional(),
    }),
    "postgres.set-durability": z.strictObject({ fencingToken, alone: z.boolean() }),
    "keepalived.stop": z.strictObject({ fencingToken, untilVipReleased: z.boolean().optional() }),
    "keepalived.start": fenced,
    "keepalived.set-role": z.strictObject({ fencingToken, role: z.enum(["primary", "standby"]) }),
    "harbor.restart": z.strictObject({
      fencingToken,
      components: z.array(componentName).max(32).optional(),
    }),
  };
}

/** The first problem, as one line naming the field: "primary.node: not a node of this site". */
export function describeSchemaError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "payload"}: ${issue.message}`)
    .join("; ");
}
