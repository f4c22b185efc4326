import { isIP } from "node:net";
import { z } from "zod";
import { parseListenAddress } from "../support/metrics-server.ts";

/**
 * The site inventory and policy. One YAML file per site; this schema is the only place that
 * says what the file may contain. Cross-field rules live in cross-rules.ts.
 */

export const ipv4 = z.string().refine((value) => isIP(value) === 4, { message: "not an IPv4 address" });
const port = z.number().int().min(1).max(65535);
/** Site and node names; job payloads are checked by the same rule (jobs/job-schemas.ts). */
export const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, {
  message: "use lowercase letters, digits and '-', starting with a letter",
});
/** Harbor versions: digits and dots only, so a version can never become a path of its own. */
export const harborVersion = z
  .string()
  .regex(/^\d+\.\d+\.\d+$/, { message: "must be a version such as 2.2.2" });
const absolutePath = z
  .string()
  .refine((value) => value.startsWith("/"), { message: "must be an absolute path" });
/** The name of the environment variable that holds a secret: the secret itself never is in the file. */
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  message: "must name an environment variable (A-Z, 0-9, _), not hold the secret",
});
const slackUser = z.string().regex(/^[UWS][A-Z0-9]{2,}$/, {
  message: "must be a Slack user ID (U.../W...) or user group ID (S...)",
});

const sshSchema = z.strictObject({
  user: z.string().min(1).default("root"),
  port: port.default(22),
  keyFile: absolutePath,
  /**
   * The node's SSH host key fingerprint as `ssh-keygen -lf` prints it. A node with neither this
   * nor an entry in knownHostsFile is refused: no trust on first use.
   */
  hostKey: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
      message:
        "must be a SHA256 fingerprint as `ssh-keygen -lf KEY.pub` prints it (SHA256: and 43 base64 characters)",
    })
    .optional(),
  /** An OpenSSH known_hosts file (hashed names allowed) that pins the node; `deploy --record-host-keys` writes it. */
  knownHostsFile: absolutePath.optional(),
});

const nodeSchema = z.strictObject({
  name,
  address: ipv4,
  ssh: sshSchema,
  dataRoot: absolutePath.default("/var/lib/harbor-ha"),
  dockerSocket: absolutePath.default("/var/run/docker.sock"),
  /** The daemon's config file, which deploy's step 0 edits (insecure registry, log rotation). */
  dockerConfigFile: absolutePath.default("/etc/docker/daemon.json"),
  /** Run over SSH after daemon.json changed, and only then. */
  dockerRestartCommand: z.string().min(1).default("systemctl restart docker"),
});

export const DURABILITY_MODES = ["synchronous", "strict", "asynchronous"] as const;
export type Durability = (typeof DURABILITY_MODES)[number];

const postgresSchema = z
  .strictObject({
    image: z.string().min(1),
    port: port.default(5432),
    dataDir: z.string().min(1).default("postgres"),
    superuser: z.strictObject({ passwordEnv: envName }),
    replication: z.strictObject({ user: z.string().regex(/^[a-z_][a-z0-9_]*$/), passwordEnv: envName }),
    /**
     * When a commit is acknowledged (README "Durability"): "synchronous", once a standby has it on
     * disk, and alone while no standby streams (the controller switches and says so); "strict",
     * only ever once a standby has it (commits wait while none streams); "asynchronous", once the
     * primary has it (a failover can lose the last commits). Patroni's synchronous_mode and
     * synchronous_mode_strict, CloudNativePG's dataDurability preferred and required.
     */
    durability: z.enum(DURABILITY_MODES).optional(),
    /** Before postgres.durability: true is "synchronous", false "asynchronous". Loads with a warning. */
    synchronous: z.boolean().optional(),
  })
  .transform((postgres) => ({
    ...postgres,
    durability:
      postgres.durability ??
      (postgres.synchronous === false ? ("asynchronous" as const) : ("synchronous" as const)),
  }));

const keepalivedSchema = z.strictObject({
  image: z.string().min(1),
  virtualRouterId: z.number().int().min(1).max(255),
  advertInt: z.number().min(0.01).max(255).default(1),
});

const harborSchema = z.strictObject({
  version: harborVersion,
  installerBundle: absolutePath,
  httpPort: port.default(5000),
  adminPasswordEnv: envName,
  /** Relative to each node's dataRoot, or absolute. */
  dataDir: z.string().min(1).default("harbor"),
  storage: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("filesystem"), path: absolutePath }),
    z.strictObject({
      kind: z.literal("s3"),
      bucket: z.string().min(1),
      region: z.string().min(1),
      endpoint: z.string().url().optional(),
      accessKeyEnv: envName,
      secretKeyEnv: envName,
    }),
  ]),
});

const policySchema = z.strictObject({
  automation: z.boolean().default(true),
  probeIntervalMs: z.number().int().min(50).max(60_000).default(500),
  confirmations: z.number().int().min(1).max(20).default(2),
  maxLagBytes: z
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * 1024),
  flapDamping: z
    .strictObject({
      windowMinutes: z.number().positive().default(30),
      maxAutoFailovers: z.number().int().min(1).default(2),
    })
    .prefault({}),
  /**
   * The primary's lease (jobs/primary-lease.ts): the primary's agent renews it every probe round;
   * cut off from Redis for half of it with no standby streaming from it, the node stops its own
   * PostgreSQL, and a node that cannot be fenced otherwise is failed over once the lease has run
   * out and its standby's replication link has gone quiet.
   */
  primaryLeaseMs: z.number().int().min(1_000).max(120_000).default(6_000),
  approvalExpiryMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
});

const agentSchema = z.strictObject({
  /** The agent's Prometheus endpoint (GET /metrics) on its node's address; 0 turns it off. */
  metricsPort: z.number().int().min(0).max(65535).default(9464),
});

/** HOST:PORT (an IP address) or "off": where a metrics endpoint listens. */
const listenAddress = z.string().refine(
  (value) => {
    try {
      parseListenAddress(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be HOST:PORT (an IP address and a port) or "off"' },
);

const metricsSchema = z.strictObject({
  /**
   * The bot's GET /metrics, on a listener of its own (never Slack's public /slack/events one):
   * loopback by default, so only the bot's host can scrape it.
   */
  botListen: listenAddress.default("127.0.0.1:9465"),
  /** When set, the bot's and the agents' /metrics answer 401 without `Authorization: Bearer TOKEN`. */
  bearerTokenEnv: envName.optional(),
});

const slackChannel = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,}$/, { message: "must be a Slack channel ID (C... or G...)" });
const slackPrincipals = (role: string) =>
  z.array(slackUser).min(1, { message: `name at least one ${role} (a user U.../W... or a user group S...)` });

/**
 * Who may do what in Slack (bot/access/roles.ts applies it). A workspace has many members who
 * are not operators: changing verbs need an operator, in an allowed channel; approving needs an
 * approver, and never the one who asked.
 */
const slackSchema = z.strictObject({
  alertChannel: slackChannel,
  /**
   * Who may run status, history, lock and help: "everyone" (the default) or a list. These verbs
   * change nothing and show what the alert channel already shows; hiding them from the people
   * who are paged would slow an incident down, and protects no secret.
   */
  viewers: z
    .union([z.literal("everyone"), slackPrincipals("viewer")], {
      error: 'must be "everyone" or a list of Slack user IDs (U.../W...) and user group IDs (S...)',
    })
    .default("everyone"),
  /**
   * Who may run deploy, switchover, failover, rejoin, pause and resume. Absent: the approvers,
   * so that a site upgraded without this field never lets more people change it than before.
   */
  operators: slackPrincipals("operator").optional(),
  /** Slack user IDs (U.../W...) or user group IDs (S...) allowed to approve. */
  approvers: slackPrincipals("approver"),
  /** The channels where changing verbs may be run. Absent: the alert channel only. */
  changeChannels: z.array(slackChannel).min(1, { message: "name at least one channel" }).optional(),
  /** On: two approvers, neither of them the requester, must approve. Off: one, not the requester. */
  twoPersonRule: z.boolean().default(true),
  /** Which operations wait for an approval besides those that always do (failover, re-clone). */
  approval: z.strictObject({ switchover: z.boolean().default(true) }).prefault({}),
});

/** A Redis ACL user name: no spaces, nothing the ACL file's syntax would read as a rule. */
const aclUser = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  message: "use letters, digits, '.', '_' and '-' (an ACL user name)",
});
const envPrefix = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  message: "must be the start of an environment variable's name (A-Z, 0-9, _)",
});

/**
 * The control plane's Redis (issue 14): TLS with the site's own CA, and ACL users by role. The
 * passwords are environment references only; the URL carries no credentials (cross-rules.ts),
 * because site.yaml is copied to every node.
 */
const controlPlaneSchema = z.strictObject({
  redisUrl: z.string().regex(/^rediss?:\/\/[^\s]+$/, { message: "must be a redis:// or rediss:// URL" }),
  tls: z
    .strictObject({
      /** The CA that signed the Redis server's certificate (PEM). */
      caFile: absolutePath,
      /** A client certificate and its key, for a Redis that asks for one (tls-auth-clients). */
      certFile: absolutePath.optional(),
      keyFile: absolutePath.optional(),
      /** The name the server's certificate must carry, when it is not the URL's host. */
      serverName: z.string().min(1).optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      /** The bot, the controller and the CLI. */
      controller: z.strictObject({
        user: aclUser.default("harbor-ha-controller"),
        passwordEnv: envName,
      }),
      /**
       * One ACL user per node's agent, `USERPREFIX + node`, whose password is in
       * `PASSWORDENVPREFIX + NODE` (upper case, '-' as '_'): only that node's secrets file has it.
       */
      agents: z
        .strictObject({
          userPrefix: aclUser.default("harbor-ha-agent-"),
          passwordEnvPrefix: envPrefix.default("HARBOR_HA_REDIS_AGENT_PASSWORD_"),
        })
        .prefault({}),
    })
    .optional(),
});

export const siteSchema = z.strictObject({
  site: name,
  vip: z.strictObject({
    address: ipv4,
    prefix: z.number().int().min(1).max(32),
    interface: z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, { message: "not a network interface name" }),
  }),
  nodes: z.array(nodeSchema).min(2, { message: "an HA site needs at least two nodes" }).max(9),
  postgres: postgresSchema,
  keepalived: keepalivedSchema,
  harbor: harborSchema,
  harborRedis: z.strictObject({ host: ipv4, port: port.default(6379) }),
  controlPlane: controlPlaneSchema,
  slack: slackSchema,
  policy: policySchema.prefault({}),
  agent: agentSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  security: z
    .strictObject({
      /**
       * The site key (config/site-key.ts): signs every job and chains the audit log. The same
       * path on the operations host and on every node; mode 600; never in Redis.
       */
      siteKeyFile: absolutePath.default("/etc/harbor-ha/site.key"),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** The audit stream keeps at most this many entries (Redis trims the oldest, approximately). */
      maxEntries: z.number().int().min(1_000).default(100_000),
      /** ...and none older than this. */
      maxAgeDays: z.number().positive().max(3_650).default(365),
    })
    .prefault({}),
});

/** A validated site: the typed object every layer below the entry points receives. */
export type SiteConfig = Readonly<z.output<typeof siteSchema>>;
export type NodeConfig = SiteConfig["nodes"][number];
export type Policy = SiteConfig["policy"];
export type ControlPlaneSettings = SiteConfig["controlPlane"];
