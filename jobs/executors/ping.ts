import { hostname, uptime } from "node:os";
import { probeDocker } from "../../probes/docker.ts";
import type { PingRequest, PingResult } from "../job-types.ts";
import type { AgentContext } from "./agent-context.ts";

/** A hung Docker daemon must not make the whole ping time out: the answer says Docker is down. */
const DOCKER_PROBE_TIMEOUT_MS = 2_000;

/** Answers who and what this agent is: the first sign that a node is alive and reachable. */
export async function ping(context: AgentContext, _request: PingRequest): Promise<PingResult> {
  const docker = await probeDocker(context.docker, context.node.dockerSocket, DOCKER_PROBE_TIMEOUT_MS);
  return {
    node: context.node.name,
    hostname: hostname(),
    dockerVersion: docker.ok ? docker.version : null,
    ...(docker.ok ? {} : { dockerError: docker.error }),
    hostUptimeSeconds: Math.round(uptime()),
    agentUptimeSeconds: Math.round((Date.now() - context.startedAt) / 1000),
    agentPid: process.pid,
  };
}
