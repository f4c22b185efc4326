import { z } from "zod";
import { name as nameRule } from "../config/schema.ts";
import type { ManualVerb } from "./manual-operations.ts";

/**
 * The jobs of the controller's own queue, typed and checked like a node's (jobs/job-schemas.ts):
 * the worker validates each payload against its schema after the signature, before the handler
 * sees it. deploy.run and remediation.run name an approval request, whose own seal is checked
 * before its plan runs (bot/approvals/approval-seal.ts).
 */

export interface ManualJobPayload {
  readonly verb: ManualVerb;
  readonly node?: string;
  readonly reclone: boolean;
  readonly dryRun: boolean;
  /** A Slack user ID, or "cli:USER". */
  readonly actor: string;
}

export interface ControllerJobSpecs {
  "deploy.run": { readonly requestId: string };
  "remediation.run": { readonly requestId: string };
  "manual.run": ManualJobPayload;
}

export type ControllerJobName = keyof ControllerJobSpecs;

export type ControllerHandlers = {
  readonly [N in ControllerJobName]: (payload: ControllerJobSpecs[N]) => Promise<unknown>;
};

/** An approval request's id, as ApprovalStore makes them. */
const requestId = z.string().regex(/^[0-9a-f]{8,16}$/, { message: "not an approval request id" });
const actor = z.string().regex(/^([UW][A-Z0-9]{2,20}|cli:[A-Za-z0-9_.-]{1,32})$/, {
  message: "not a Slack user ID or cli:USER",
});

export function controllerJobSchemas(nodeNames: readonly string[]): {
  readonly [N in ControllerJobName]: z.ZodType<ControllerJobSpecs[N]>;
} {
  const siteNode = nameRule.refine((value) => nodeNames.includes(value), {
    message: `not a node of this site (${nodeNames.join(", ")})`,
  });
  return {
    "deploy.run": z.strictObject({ requestId }),
    "remediation.run": z.strictObject({ requestId }),
    "manual.run": z.strictObject({
      verb: z.enum(["switchover", "failover", "rejoin"]),
      node: siteNode.optional(),
      reclone: z.boolean(),
      dryRun: z.boolean(),
      actor,
    }),
  };
}

export function isControllerJobName(name: string): name is ControllerJobName {
  return name === "deploy.run" || name === "remediation.run" || name === "manual.run";
}

/** The longest a terminal's operation may wait in the queue and run (the CLI waits less by default). */
export const MANUAL_JOB_MAX_LIFETIME_MS = 60 * 60_000;
