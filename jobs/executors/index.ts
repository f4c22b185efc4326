import type { JobName } from "../job-types.ts";
import { runDeployStep } from "./deploy/index.ts";
import type { Executor } from "./executor.ts";
import { ping } from "./ping.ts";
import { postgresRole } from "./postgres-role.ts";
import { REMEDIATION_EXECUTORS } from "./remediation/index.ts";

export type { Executor } from "./executor.ts";

/** One executor per job name; the mapped type makes a missing one a compile error. */
export const EXECUTORS: { readonly [N in JobName]: Executor<N> } = {
  ping,
  "postgres.role": (context) => postgresRole(context),
  "deploy.step": runDeployStep,
  ...REMEDIATION_EXECUTORS,
};
