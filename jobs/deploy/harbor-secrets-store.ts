import type { Redis } from "ioredis";
import { queuePrefix } from "../queue-names.ts";
import type { HarborSharedSecrets } from "./step-contract.ts";

function secretsKey(site: string): string {
  return `${queuePrefix(site)}:harbor-secrets`;
}

/**
 * Harbor's shared secrets are made once per site and kept by the control plane (Redis, append-
 * only), so every node, now and after a re-install, gets the same ones. SET NX makes the first
 * writer win when two deploys race.
 */
export async function loadOrCreateHarborSecrets(
  redis: Redis,
  site: string,
  generate: () => HarborSharedSecrets,
): Promise<HarborSharedSecrets> {
  const key = secretsKey(site);
  await redis.set(key, JSON.stringify(generate()), "NX");
  const stored = await redis.get(key);
  if (!stored) throw new Error(`${key} vanished right after it was written`);
  return JSON.parse(stored) as HarborSharedSecrets;
}

/** The stored secrets, if a deploy made them already; for a dry run, which must not create them. */
export async function readHarborSecrets(
  redis: Redis,
  site: string,
): Promise<HarborSharedSecrets | undefined> {
  const stored = await redis.get(secretsKey(site));
  return stored ? (JSON.parse(stored) as HarborSharedSecrets) : undefined;
}
