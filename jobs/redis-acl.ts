import { createHash } from "node:crypto";
import { allRedisCredentialReferences, type RedisRole } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import { observationChannel, observationKey } from "../probes/observation.ts";
import { HarborHaError } from "../support/errors.ts";
import { controllerLeaseKey } from "./controller-lease-key.ts";
import { harborSecretsKey } from "./deploy/harbor-secrets-store.ts";
import { primaryLeaseKey } from "./primary-lease.ts";
import { nodeQueueName, queuePrefix } from "./queue-names.ts";
import { securityEventsKey } from "./signing/job-refusal.ts";

/**
 * The control-plane Redis's ACL, as a pure function of the site (issue 14): who may touch what.
 * The threat: anyone who holds a node's secrets file (root on that node) holds its agent's
 * password. With it they must not reach another node's queue, the bot's queue, the leases'
 * writers or the audit trail: only what that agent itself reads and writes.
 */

/**
 * Every command an agent sends, found by running the agent's BullMQ Worker, its queue-depth
 * Queue, the observation publisher and the lease keeper against a redis-server 7 under this ACL:
 * the connection's own (HELLO, AUTH, CLIENT SETNAME, INFO for BullMQ's version check, SELECT),
 * BZPOPMIN on the queue's marker, EVALSHA/EVAL for BullMQ's scripts, and inside those scripts
 * the list, hash, sorted-set and stream commands BullMQ's Lua calls (Redis checks each one
 * against the user's keys). Nothing that flushes, reconfigures or lists the keyspace.
 */
// biome-ignore format: one list to read, not one line per command
export const AGENT_COMMANDS = [
  "auth", "hello", "ping", "select", "info", "client|setname", "client|getname", "client|id",
  "multi", "exec", "discard", "watch", "unwatch", "evalsha", "eval", "bzpopmin", "publish",
  "get", "set", "del", "unlink", "exists", "type", "incr", "incrby", "pexpire", "pexpireat", "pttl", "rename", "time",
  "hget", "hset", "hmset", "hmget", "hgetall", "hdel", "hexists", "hincrby", "hlen",
  "lpush", "rpush", "lpop", "rpop", "rpoplpush", "lrange", "lrem", "llen", "lindex", "lset", "ltrim", "lpos",
  "sadd", "srem", "smembers", "scard", "sismember",
  "zadd", "zrem", "zscore", "zcard", "zcount", "zrange", "zrangebyscore", "zrangebylex", "zrevrange",
  "zrevrangebyscore", "zremrangebyscore", "zremrangebyrank", "zpopmin", "zlexcount",
  "xadd", "xtrim", "xlen", "xrange", "xread", "xdel",
] as const;

/**
 * The controller (bot, controller, CLI) owns the whole site's keyspace, but still not the
 * server: no FLUSH*, CONFIG, KEYS, DEBUG, ACL, SHUTDOWN, MONITOR (all in @dangerous or @admin),
 * and of scripting only what BullMQ and the site lock use.
 */
export const CONTROLLER_COMMANDS =
  "-@all +@read +@write +@keyspace +@stream +@pubsub +@transaction +@connection -@dangerous -@admin +eval +evalsha +info +client|setname +client|getname +client|id";

export interface AclUser {
  readonly role: RedisRole;
  readonly user: string;
  /** The ACL rules after `user NAME on #HASH`, in order. */
  readonly rules: readonly string[];
}

/** The site's key prefix with a trailing '*', as an ACL pattern. */
const siteKeys = (site: string) => `${queuePrefix(site)}:*`;

export function agentAclRules(site: SiteConfig, node: string): string[] {
  const name = site.site;
  return [
    "resetkeys",
    "resetchannels",
    // Its own queue's BullMQ keys only: `PREFIX:QUEUE:*` (wait, active, events, marker, job hashes...).
    `~${queuePrefix(name)}:${nodeQueueName(node)}:*`,
    `~${observationKey(name, node)}`,
    `~${primaryLeaseKey(name, node)}`,
    // Read to check a job's fencing token; writing it would let an agent mint its own token.
    `%R~${controllerLeaseKey(name)}`,
    // Harbor's shared secrets, sealed with the site key: harbor.install opens them on the node.
    `%R~${harborSecretsKey(name)}`,
    `&${observationChannel(name)}`,
    "-@all",
    ...AGENT_COMMANDS.map((command) => `+${command}`),
    // Append-only on the security events (refused jobs), which the bot records in the audit log:
    // a selector whose only command is XADD, so the root's XDEL, XTRIM and DEL (which BullMQ
    // needs on the queue's own stream) never reach it. The audit log itself is not the agent's.
    `(~${securityEventsKey(name)} resetchannels -@all +xadd)`,
  ];
}

export function controllerAclRules(site: SiteConfig): string[] {
  return [
    "resetkeys",
    "resetchannels",
    `~${siteKeys(site.site)}`,
    `&${siteKeys(site.site)}`,
    ...CONTROLLER_COMMANDS.split(" "),
  ];
}

/** Every user the site needs, controller first; empty when the site names no ACL users. */
export function redisAclUsers(site: SiteConfig): AclUser[] {
  return allRedisCredentialReferences(site).map((ref) => ({
    role: ref.role,
    user: ref.user,
    rules:
      ref.role === "controller"
        ? controllerAclRules(site)
        : agentAclRules(site, ref.role.slice("agent:".length)),
  }));
}

export function sha256Hex(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

/**
 * The ACL file (`aclfile` in redis.conf): the default user off (a client that does not log in
 * can do nothing), then one line per role. Passwords only as SHA-256 hashes, so the file can be
 * read by whoever runs Redis without giving away a login.
 */
export function renderAclFile(site: SiteConfig, passwordHashes: ReadonlyMap<string, string>): string {
  const lines = ["user default off resetpass resetkeys resetchannels -@all"];
  for (const user of redisAclUsers(site)) {
    const hash = passwordHashes.get(user.user);
    if (!hash) throw new RangeError(`no password hash for the Redis user ${user.user}`);
    lines.push(`user ${user.user} on resetpass #${hash} ${user.rules.join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Each user's password hash, from the variables the site names. Every missing variable is named
 * at once; a site without ACL users has nothing to render.
 */
export function passwordHashesFrom(
  site: SiteConfig,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const refs = allRedisCredentialReferences(site);
  if (refs.length === 0) {
    throw new HarborHaError("CONFIG_INVALID", "the site names no Redis ACL users (controlPlane.auth)", {
      action: "render the control-plane Redis's ACL file",
      hint: "add controlPlane.auth (see config/site.example.yaml), then run this again",
    });
  }
  const missing = refs.filter((ref) => !env[ref.envName]);
  if (missing.length > 0) {
    throw new HarborHaError(
      "CONFIG_INVALID",
      `missing secrets: ${missing.map((ref) => `${ref.envName} (${ref.user})`).join(", ")}`,
      {
        action: "render the control-plane Redis's ACL file",
        hint: "export every role's password variable (generate each with `openssl rand -base64 24`)",
        context: { missing: missing.map((ref) => ref.envName) },
      },
    );
  }
  return new Map(refs.map((ref) => [ref.user, sha256Hex(env[ref.envName] ?? "")]));
}
