import { mkdir } from "node:fs/promises";
import { Redis } from "ioredis";
import type { NodeConfig, SiteConfig } from "../../../config/schema.ts";
import { type ContainerSpec, Containers } from "../../adapters/containers.ts";
import { harborNodeLayout } from "../../deploy/harbor-layout.ts";
import { changedOutcome, failedOutcome, unchangedOutcome, wouldChange } from "../../deploy/step-contract.ts";
import { listenersOn, probePort, sleep } from "./harbor-ports.ts";
import type { DeployStepExecutor } from "./index.ts";

/**
 * harbor.redis: the one Redis every Harbor instance of the site shares (the runbook runs it on
 * the first node), in a host-network container on harborRedis.host:port, its data (append-only
 * file) on the node's own disk under Harbor's dataDir.
 */

export const HARBOR_REDIS_CONTAINER = "harbor-redis";
export const HARBOR_REDIS_COMPONENT = "harbor-redis";
const READY_TIMEOUT_MS = 15_000;

export function harborRedisSpec(site: SiteConfig, node: Pick<NodeConfig, "dataRoot">): ContainerSpec {
  const { host, port } = site.harborRedis;
  return {
    name: HARBOR_REDIS_CONTAINER,
    // The site runs every service from its one node image (lab/image.ts), which has redis-server.
    image: site.postgres.image,
    component: HARBOR_REDIS_COMPONENT,
    cmd: [
      "redis-server",
      "--bind",
      host,
      "--port",
      String(port),
      "--dir",
      "/data",
      "--appendonly",
      "yes",
      // Bound to one address with no password: protected mode would refuse the other nodes.
      "--protected-mode",
      "no",
      "--daemonize",
      "no",
    ],
    binds: [`${harborNodeLayout(site, node).redisDir}:/data`],
    stopSignal: "SIGTERM",
  };
}

/** undefined when Redis answers PING, else why not. */
export async function pingRedis(host: string, port: number, timeoutMs = 2_000): Promise<string | undefined> {
  let socketError: unknown;
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", (error) => {
    socketError = error;
  });
  try {
    await client.connect();
    const answer = await client.ping();
    return answer === "PONG" ? undefined : `PING answered ${answer}`;
  } catch (error) {
    return ((socketError ?? error) as Error).message;
  } finally {
    client.disconnect();
  }
}

export const harborRedis: DeployStepExecutor = async (context, request, signal) => {
  const { site, node } = context;
  const { host, port } = site.harborRedis;
  const where = `${host}:${port}`;
  if (host !== node.address) {
    return failedOutcome(
      `harbor.redis runs on the node at ${host}, not on ${node.name} (${node.address})`,
      "this is a bug in the plan: send harbor.redis to the node whose address is harborRedis.host",
    );
  }
  const containers = new Containers(context.docker);
  const spec = harborRedisSpec(site, node);
  const action = await containers.plan(spec);

  if (action === "running") {
    const problem = await pingRedis(host, port);
    if (problem === undefined)
      return unchangedOutcome(`${HARBOR_REDIS_CONTAINER} running on ${where}, answers PING`);
    return failedOutcome(
      `${HARBOR_REDIS_CONTAINER} runs on ${node.name} but does not answer PING on ${where}: ${problem}`,
      `read its log (docker logs ${HARBOR_REDIS_CONTAINER} on ${node.name}); remove the container and re-run the deploy to recreate it`,
      await containers.logsTail(HARBOR_REDIS_CONTAINER),
    );
  }

  const portState = await probePort(host, port);
  if (portState === "no-such-address") {
    return failedOutcome(
      `${host} is not an address of ${node.name}`,
      "harborRedis.host must be the address of the node that runs Harbor's Redis",
    );
  }
  if (portState === "in-use") {
    return failedOutcome(
      `port ${port} on ${node.name} (${host}) is already in use by another process`,
      `stop what listens there (ss -ltnp 'sport = :${port}' on ${node.name}) or set harborRedis.port to a free port`,
      await listenersOn(port),
    );
  }

  const verb = { created: "create", recreated: "recreate", started: "start" }[action];
  if (request.mode === "check") {
    return wouldChange(
      `would ${verb} ${HARBOR_REDIS_CONTAINER} on ${where} (data in ${harborNodeLayout(site, node).redisDir})`,
    );
  }

  const started = performance.now();
  await mkdir(harborNodeLayout(site, node).redisDir, { recursive: true, mode: 0o700 });
  await containers.ensureRunning(spec);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let problem = await pingRedis(host, port);
  while (problem !== undefined && Date.now() < deadline && !signal.aborted) {
    if (!(await containers.inspect(HARBOR_REDIS_CONTAINER))?.running) break;
    await sleep(100, signal);
    problem = await pingRedis(host, port);
  }
  if (problem !== undefined) {
    return failedOutcome(
      `${HARBOR_REDIS_CONTAINER} on ${node.name} does not answer PING on ${where}: ${problem}`,
      `read its log (docker logs ${HARBOR_REDIS_CONTAINER} on ${node.name})`,
      await containers.logsTail(HARBOR_REDIS_CONTAINER),
    );
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return changedOutcome(`${action} ${HARBOR_REDIS_CONTAINER} on ${where}, answers PING (${seconds} s)`);
};
