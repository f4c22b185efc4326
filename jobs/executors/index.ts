import type { JobName, JobRequest, JobResult } from "../job-types.ts";
import type { AgentContext } from "./agent-context.ts";
import { runDeployStep } from "./deploy/index.ts";
import { ping } from "./ping.ts";
import { postgresRole } from "./postgres-role.ts";

/**
 * An executor is the only code that acts on a node. It gets an abort signal that fires at the
 * job's timeout; long actions must stop at it.
 */
export type Executor<N extends JobName> = (
  context: AgentContext,
  request: JobRequest<N>,
  signal: AbortSignal,
) => Promise<JobResult<N>>;

/** One executor per job name; the mapped type makes a missing one a compile error. */
export const EXECUTORS: { readonly [N in JobName]: Executor<N> } = {
  ping,
  "postgres.role": (context) => postgresRole(context),
  "deploy.step": runDeployStep,
};
