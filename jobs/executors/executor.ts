import type { JobName, JobRequest, JobResult } from "../job-types.ts";
import type { AgentContext } from "./agent-context.ts";

/**
 * An executor is the only code that acts on a node. It gets an abort signal that fires at the
 * job's timeout; long actions must stop at it.
 */
export type Executor<N extends JobName> = (
  context: AgentContext,
  request: JobRequest<N>,
  signal: AbortSignal,
) => Promise<JobResult<N>>;
