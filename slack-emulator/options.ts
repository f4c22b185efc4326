/**
 * The emulator's settings: what `startEmulator` accepts, the defaults, and the parsers for the
 * CLI's `--users` and `--usergroup` lists. Pure: the CLI reads the environment and passes values in.
 */

export interface EmulatorUser {
  readonly id: string;
  readonly name: string;
}

export interface RateLimitOptions {
  /** Messages a second each channel accepts in the long run (Slack: about 1). */
  readonly perSecond: number;
  /** Messages a channel accepts at once before the rate applies. */
  readonly burst: number;
}

export interface EmulatorOptions {
  /** 0 (the default) lets the kernel choose a free port; the CLI uses 3100. */
  port?: number;
  host?: string;
  /** Where signed slash commands and button clicks go when no Socket Mode client is connected. */
  botUrl?: string;
  /** The channel the page opens. */
  channel?: string;
  users?: readonly EmulatorUser[];
  /** Usergroup ID -> member user IDs, for usergroups.users.list. */
  usergroups?: Readonly<Record<string, readonly string[]>>;
  /** Signs requests to the bot (SLACK_SIGNING_SECRET). */
  signingSecret?: string;
  /** When set, Web API calls with any other token get `invalid_auth` (SLACK_BOT_TOKEN). */
  botToken?: string;
  /** When set, apps.connections.open accepts only this token (SLACK_APP_TOKEN). */
  appToken?: string;
  /** Per-channel posting limit; `false` turns it off (load tests only). */
  rateLimit?: RateLimitOptions | false;
  /** How long the bot has to acknowledge a command or click (Slack: 3 s). */
  ackTimeoutMs?: number;
  /** How often the server pings each Socket Mode connection; 0 sends none. */
  socketPingIntervalMs?: number;
  /** Uses and lifetime of each response_url (Slack: 5 uses in 30 minutes). */
  responseUrlUses?: number;
  responseUrlTtlMs?: number;
  /** The clock, for tests of expiry. */
  now?: () => number;
}

export interface Workspace {
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botName: string;
  /** The legacy verification token Slack puts in every payload's `token` field. */
  readonly verificationToken: string;
}

export const WORKSPACE: Workspace = {
  teamId: "T0HARBOR",
  teamDomain: "harbor-emulator",
  appId: "A0HARBORHA",
  botUserId: "U0HARBORBOT",
  botId: "B0HARBORBOT",
  botName: "harbor-ha",
  verificationToken: "emulator-verification-token",
};

export const DEFAULT_USERS: readonly EmulatorUser[] = [
  { id: "U0ALICE", name: "alice" },
  { id: "U0BOB", name: "bob" },
  { id: "U0CAROL", name: "carol" },
];

/** Known to everyone who reads this file: fine for a local emulator, never for a real app. */
export const DEFAULT_SIGNING_SECRET = "harbor-ha-emulator-signing-secret";
export const DEFAULT_BOT_URL = "http://127.0.0.1:3000/slack/events";
export const DEFAULT_CHANNEL = "C0HARBOR";
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 1, burst: 3 };

export interface ResolvedOptions {
  readonly port: number;
  readonly host: string;
  readonly botUrl: string;
  readonly channel: string;
  readonly users: readonly EmulatorUser[];
  readonly usergroups: Readonly<Record<string, readonly string[]>>;
  readonly signingSecret: string;
  readonly botToken: string | undefined;
  readonly appToken: string | undefined;
  readonly rateLimit: RateLimitOptions | false;
  readonly ackTimeoutMs: number;
  readonly socketPingIntervalMs: number;
  readonly responseUrlUses: number;
  readonly responseUrlTtlMs: number;
  readonly now: () => number;
  readonly workspace: Workspace;
}

export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  return {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    botUrl: options.botUrl ?? DEFAULT_BOT_URL,
    channel: options.channel ?? DEFAULT_CHANNEL,
    users: options.users ?? DEFAULT_USERS,
    usergroups: options.usergroups ?? {},
    signingSecret: options.signingSecret || DEFAULT_SIGNING_SECRET,
    botToken: options.botToken || undefined,
    appToken: options.appToken || undefined,
    rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
    ackTimeoutMs: options.ackTimeoutMs ?? 3_000,
    socketPingIntervalMs: options.socketPingIntervalMs ?? 5_000,
    responseUrlUses: options.responseUrlUses ?? 5,
    responseUrlTtlMs: options.responseUrlTtlMs ?? 30 * 60_000,
    now: options.now ?? Date.now,
    workspace: WORKSPACE,
  };
}

export class EmulatorOptionError extends Error {
  override readonly name = "EmulatorOptionError";
}

const ID = /^[A-Z0-9]{2,}$/;

/** `U0ALICE:alice,U0BOB:bob` -> users; a missing name is the ID in lower case. */
export function parseUsers(spec: string): EmulatorUser[] {
  const users = spec
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const [id = "", name] = part.split(":").map((piece) => piece.trim());
      if (!ID.test(id)) {
        throw new EmulatorOptionError(`--users: "${part}" is not USERID:name (such as U0ALICE:alice)`);
      }
      return { id, name: name || id.toLowerCase() };
    });
  if (users.length === 0) throw new EmulatorOptionError("--users: no user given (such as U0ALICE:alice)");
  return users;
}

/** `S0OPS=U0ALICE,U0BOB` -> one usergroup and its members. */
export function parseUsergroup(spec: string): [string, string[]] {
  const [group = "", members = ""] = spec.split("=").map((piece) => piece.trim());
  const ids = members
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "");
  if (!ID.test(group) || ids.some((id) => !ID.test(id))) {
    throw new EmulatorOptionError(
      `--usergroup: "${spec}" is not GROUPID=USERID,USERID (such as S0OPS=U0ALICE)`,
    );
  }
  return [group, ids];
}

/** `1/3` or `1` -> a rate of 1 message a second with a burst of 3 (the default burst if absent). */
export function parseRateLimit(spec: string): RateLimitOptions {
  const [rate = "", burst] = spec.split("/");
  const perSecond = Number(rate);
  const burstSize = burst === undefined ? DEFAULT_RATE_LIMIT.burst : Number(burst);
  if (!(perSecond > 0) || !Number.isInteger(burstSize) || burstSize < 1) {
    throw new EmulatorOptionError(`--rate-limit: "${spec}" is not PER_SECOND[/BURST] (such as 1/3)`);
  }
  return { perSecond, burst: burstSize };
}
