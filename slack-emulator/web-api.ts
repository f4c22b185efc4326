import { assignBlockIds, validateMessageContent } from "./block-kit.ts";
import type { ResolvedOptions } from "./options.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { MessageStore, StoredMessage } from "./store.ts";

/** One Web API answer: Slack answers 200 with `ok:false` for errors, and 429 when rate limited. */
export interface ApiReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
}

export type ApiArgs = Readonly<Record<string, unknown>>;

export interface WebApiDeps {
  readonly options: ResolvedOptions;
  readonly store: MessageStore;
  /** Absent when rate limiting is off. */
  readonly limiter: RateLimiter | undefined;
  /** A fresh Socket Mode URL with a one-time ticket. */
  readonly openSocketUrl: () => string;
}

const fail = (error: string, extra: Record<string, unknown> = {}): ApiReply => ({
  status: 200,
  body: { ok: false, error, ...extra },
});
const ok = (body: Record<string, unknown>): ApiReply => ({ status: 200, body: { ok: true, ...body } });

function stringArg(args: ApiArgs, name: string): string | undefined {
  const value = args[name];
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

function boolArg(args: ApiArgs, name: string): boolean {
  const value = args[name];
  return value === true || value === "true" || value === "1" || value === 1;
}

/** WebClient sends blocks as a JSON string inside the form; a JSON body carries the array itself. */
function blocksArg(args: ApiArgs): { blocks: unknown } | { error: string } {
  const value = args.blocks;
  if (value === undefined || value === "") return { blocks: undefined };
  if (typeof value !== "string") return { blocks: value };
  try {
    return { blocks: JSON.parse(value) };
  } catch {
    return { error: "invalid_blocks_format" };
  }
}

type Content = { text: string; blocks: unknown[] };

function contentArgs(args: ApiArgs): { content: Content } | { reply: ApiReply } {
  const parsed = blocksArg(args);
  if ("error" in parsed) return { reply: fail(parsed.error) };
  const text = stringArg(args, "text") ?? "";
  const check = validateMessageContent({ text, blocks: parsed.blocks });
  if (!check.ok) {
    const errors = check.errors ?? [];
    return {
      reply: fail(
        check.error,
        errors.length > 0
          ? { errors, response_metadata: { messages: errors.map((error) => `[ERROR] ${error}`) } }
          : {},
      ),
    };
  }
  return { content: { text, blocks: Array.isArray(parsed.blocks) ? assignBlockIds(parsed.blocks) : [] } };
}

export class WebApi {
  private readonly methods: Record<string, (args: ApiArgs) => ApiReply>;

  constructor(private readonly deps: WebApiDeps) {
    this.methods = {
      "api.test": (args) => ok({ args }),
      "auth.test": () => this.authTest(),
      "chat.postMessage": (args) => this.postMessage(args),
      "chat.postEphemeral": (args) => this.postEphemeral(args),
      "chat.update": (args) => this.update(args),
      "chat.delete": (args) => this.deleteMessage(args),
      "conversations.info": (args) => this.conversationInfo(args),
      "usergroups.users.list": (args) => this.usergroupUsers(args),
      "users.info": (args) => this.userInfo(args),
    };
  }

  call(method: string, args: ApiArgs, token: string | undefined): ApiReply {
    if (method === "apps.connections.open") return this.openConnection(token);
    const handler = this.methods[method];
    if (!handler) return fail("unknown_method");
    if (!token) return fail("not_authed");
    const { botToken } = this.deps.options;
    if (botToken !== undefined && token !== botToken) return fail("invalid_auth");
    if (token.startsWith("xapp-")) return fail("not_allowed_token_type");
    return handler(args);
  }

  private openConnection(token: string | undefined): ApiReply {
    if (!token) return fail("not_authed");
    if (!token.startsWith("xapp-")) return fail("not_allowed_token_type");
    const { appToken } = this.deps.options;
    if (appToken !== undefined && token !== appToken) return fail("invalid_auth");
    return ok({ url: this.deps.openSocketUrl() });
  }

  private authTest(): ApiReply {
    const { workspace } = this.deps.options;
    return ok({
      url: `https://${workspace.teamDomain}.slack.com/`,
      team: workspace.teamDomain,
      user: workspace.botName,
      team_id: workspace.teamId,
      user_id: workspace.botUserId,
      bot_id: workspace.botId,
      is_enterprise_install: false,
    });
  }

  private botMessageJson(message: StoredMessage): Record<string, unknown> {
    return {
      type: "message",
      ...this.deps.store.view(message),
      app_id: this.deps.options.workspace.appId,
      team: this.deps.options.workspace.teamId,
    };
  }

  /** The thread a reply joins: a reply's ts is taken as its parent's, as Slack does. */
  private threadOf(channel: string, threadTs: string | undefined): { ts: string | undefined } | ApiReply {
    if (threadTs === undefined) return { ts: undefined };
    const parent = this.deps.store.find(channel, threadTs);
    if (!parent || parent.ephemeralTo !== undefined) return fail("thread_not_found");
    return { ts: parent.threadTs ?? parent.ts };
  }

  private postMessage(args: ApiArgs): ApiReply {
    const channel = stringArg(args, "channel");
    if (!channel) return fail("channel_not_found");
    const parsed = contentArgs(args);
    if ("reply" in parsed) return parsed.reply;
    const thread = this.threadOf(channel, stringArg(args, "thread_ts"));
    if ("status" in thread) return thread;
    const decision = this.deps.limiter?.take(`chat.postMessage:${channel}`);
    if (decision && !decision.allowed) {
      return {
        status: 429,
        headers: { "Retry-After": String(decision.retryAfterSeconds) },
        body: { ok: false, error: "ratelimited" },
      };
    }
    const { workspace } = this.deps.options;
    const message = this.deps.store.post({
      channel,
      user: workspace.botUserId,
      botId: workspace.botId,
      ...parsed.content,
      threadTs: thread.ts,
      replyBroadcast: thread.ts !== undefined && boolArg(args, "reply_broadcast"),
    });
    return ok({ channel, ts: message.ts, message: this.botMessageJson(message) });
  }

  private postEphemeral(args: ApiArgs): ApiReply {
    const channel = stringArg(args, "channel");
    if (!channel) return fail("channel_not_found");
    const user = stringArg(args, "user");
    if (!user) return fail("user_not_in_channel");
    const parsed = contentArgs(args);
    if ("reply" in parsed) return parsed.reply;
    const thread = this.threadOf(channel, stringArg(args, "thread_ts"));
    if ("status" in thread) return thread;
    const { workspace } = this.deps.options;
    const message = this.deps.store.post({
      channel,
      user: workspace.botUserId,
      botId: workspace.botId,
      ...parsed.content,
      threadTs: thread.ts,
      ephemeralTo: user,
    });
    return ok({ message_ts: message.ts });
  }

  private update(args: ApiArgs): ApiReply {
    const channel = stringArg(args, "channel");
    const ts = stringArg(args, "ts");
    if (!channel) return fail("channel_not_found");
    const message = ts ? this.deps.store.find(channel, ts) : undefined;
    // Slack cannot find ephemeral messages through chat.update either: they live in one client.
    if (!message || message.ephemeralTo !== undefined || message.deleted) return fail("message_not_found");
    if (message.user !== this.deps.options.workspace.botUserId) return fail("cant_update_message");
    const parsed = contentArgs(args);
    if ("reply" in parsed) return parsed.reply;
    this.deps.store.update(message, parsed.content, true);
    return ok({ channel, ts: message.ts, text: message.text, message: this.botMessageJson(message) });
  }

  private deleteMessage(args: ApiArgs): ApiReply {
    const channel = stringArg(args, "channel");
    const ts = stringArg(args, "ts");
    if (!channel) return fail("channel_not_found");
    const message = ts ? this.deps.store.find(channel, ts) : undefined;
    if (!message || message.ephemeralTo !== undefined || message.deleted) return fail("message_not_found");
    if (message.user !== this.deps.options.workspace.botUserId) return fail("cant_delete_message");
    this.deps.store.delete(message);
    return ok({ channel, ts: message.ts });
  }

  private conversationInfo(args: ApiArgs): ApiReply {
    const id = stringArg(args, "channel");
    if (!id) return fail("channel_not_found");
    const channel = this.deps.store.channel(id);
    return ok({
      channel: {
        id: channel.id,
        name: channel.name,
        is_channel: true,
        is_group: false,
        is_im: false,
        is_private: false,
        is_archived: false,
        is_member: true,
        created: channel.created,
        creator: this.deps.options.users[0]?.id ?? "",
        num_members: this.deps.options.users.length + 1,
      },
    });
  }

  private usergroupUsers(args: ApiArgs): ApiReply {
    const group = stringArg(args, "usergroup");
    const users = group ? this.deps.options.usergroups[group] : undefined;
    return users ? ok({ users: [...users] }) : fail("no_such_subteam");
  }

  private userInfo(args: ApiArgs): ApiReply {
    const id = stringArg(args, "user");
    const { workspace, users } = this.deps.options;
    if (id === workspace.botUserId) {
      return ok({ user: this.userJson(id, workspace.botName, true) });
    }
    const user = users.find((candidate) => candidate.id === id);
    return user ? ok({ user: this.userJson(user.id, user.name, false) }) : fail("user_not_found");
  }

  private userJson(id: string, name: string, isBot: boolean): Record<string, unknown> {
    return {
      id,
      team_id: this.deps.options.workspace.teamId,
      name,
      real_name: name,
      deleted: false,
      is_bot: isBot,
      is_admin: false,
      tz: "UTC",
      profile: {
        real_name: name,
        display_name: name,
        ...(isBot ? { bot_id: this.deps.options.workspace.botId } : {}),
      },
    };
  }
}
