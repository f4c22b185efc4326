import { HarborHaError } from "../support/errors.ts";
import type { SiteConfig } from "./schema.ts";

/**
 * Who connects to the control-plane Redis: the controller (the bot, the controller inside it and
 * the CLI on the operations host) or one node's agent. Each role is its own ACL user
 * (jobs/redis-acl.ts), so an agent's password opens only what that agent needs.
 */
export type RedisRole = "controller" | `agent:${string}`;

/** What a process logs in with; no user and no password when the site names no ACL users. */
export interface RedisCredentials {
  readonly role: RedisRole;
  readonly username?: string;
  readonly password?: string;
}

/** Where a role's password comes from: the variable, and the config field that names it. */
export interface RedisCredentialReference {
  readonly role: RedisRole;
  readonly user: string;
  readonly envName: string;
  readonly path: string;
}

export function agentRole(node: string): RedisRole {
  return `agent:${node}`;
}

/** node01 -> HARBOR_HA_REDIS_AGENT_PASSWORD_NODE01 (with the default prefix). */
export function agentPasswordEnv(prefix: string, node: string): string {
  return `${prefix}${node.toUpperCase().replaceAll("-", "_")}`;
}

export function redisCredentialReference(
  site: SiteConfig,
  role: RedisRole,
): RedisCredentialReference | undefined {
  const auth = site.controlPlane.auth;
  if (!auth) return undefined;
  if (role === "controller") {
    return {
      role,
      user: auth.controller.user,
      envName: auth.controller.passwordEnv,
      path: "controlPlane.auth.controller.passwordEnv",
    };
  }
  const node = role.slice("agent:".length);
  return {
    role,
    user: `${auth.agents.userPrefix}${node}`,
    envName: agentPasswordEnv(auth.agents.passwordEnvPrefix, node),
    path: "controlPlane.auth.agents.passwordEnvPrefix",
  };
}

/** Every role's reference: what the operations host holds (it copies each agent's to its node). */
export function allRedisCredentialReferences(site: SiteConfig): RedisCredentialReference[] {
  const roles: RedisRole[] = ["controller", ...site.nodes.map((node) => agentRole(node.name))];
  return roles.flatMap((role) => redisCredentialReference(site, role) ?? []);
}

/**
 * Reads one role's password from the environment, at a process's entry point. A site without
 * ACL users gets credentials without a user (and config check warns about that site).
 */
export function resolveRedisCredentials(
  site: SiteConfig,
  role: RedisRole,
  env: Readonly<Record<string, string | undefined>>,
): RedisCredentials {
  const ref = redisCredentialReference(site, role);
  if (!ref) return { role };
  const password = env[ref.envName];
  if (!password) {
    throw new HarborHaError(
      "CONFIG_INVALID",
      `missing secret: ${ref.envName} (named by ${ref.path}), the Redis password of ${ref.user}`,
      {
        action: `read the control-plane Redis credentials of the ${role}`,
        hint: "export the variable before starting (the lab writes it to the env file `harbor-ha lab status` shows; a node's agent.env holds its agent's)",
        context: { missing: [ref.envName], role },
      },
    );
  }
  return { role, username: ref.user, password };
}

/** The one agent variable a node's secrets file gets (deploy writes agent.env with it). */
export function agentRedisEnv(
  site: SiteConfig,
  node: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const ref = redisCredentialReference(site, agentRole(node));
  if (!ref) return {};
  return { [ref.envName]: env[ref.envName] ?? "" };
}
