/**
 * The emulator's channels and their messages, in memory. Every change is published to
 * subscribers (the page's event stream, `waitForMessage`).
 */

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  /** The parent's ts, for a reply in a thread. */
  readonly threadTs: string | undefined;
  /** The author: the bot's user id for the bot's messages. */
  readonly user: string;
  readonly botId: string | undefined;
  text: string;
  blocks: unknown[];
  /** The ts of the last edit through chat.update. */
  editedTs: string | undefined;
  /** The only user who sees this message. */
  readonly ephemeralTo: string | undefined;
  readonly replyBroadcast: boolean;
  /** A parent deleted while it had replies stays as "This message was deleted." as in Slack. */
  deleted: boolean;
  /** Bumped on every change, so a page knows which messages to draw again. */
  revision: number;
}

/** A message as `GET /emulator/messages` and `waitForMessage` give it. */
export interface MessageView {
  readonly ts: string;
  readonly thread_ts?: string;
  readonly user: string;
  readonly bot_id?: string;
  readonly text: string;
  readonly blocks: unknown[];
  /** false, or the ts of the last edit. */
  readonly edited: false | string;
  /** The user the message is visible to, for an ephemeral message. */
  readonly ephemeral?: string;
  readonly reply_broadcast?: boolean;
  readonly reply_count?: number;
  readonly deleted?: boolean;
}

export type ChangeKind = "posted" | "updated" | "deleted";

export interface MessageChange {
  readonly kind: ChangeKind;
  readonly channel: string;
  readonly message: MessageView;
}

export interface ChannelRecord {
  readonly id: string;
  readonly name: string;
  readonly created: number;
  readonly messages: StoredMessage[];
}

export type NewMessage = Pick<StoredMessage, "channel" | "user" | "text" | "blocks"> &
  Partial<Pick<StoredMessage, "threadTs" | "botId" | "ephemeralTo" | "replyBroadcast">>;

export class MessageStore {
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly listeners = new Set<(change: MessageChange) => void>();
  private lastMicros = 0;

  constructor(private readonly now: () => number) {}

  /** Any channel ID is accepted: the first use creates it. */
  channel(id: string): ChannelRecord {
    let record = this.channels.get(id);
    if (!record) {
      record = { id, name: id.toLowerCase(), created: Math.floor(this.now() / 1_000), messages: [] };
      this.channels.set(id, record);
    }
    return record;
  }

  channelIds(): string[] {
    return [...this.channels.keys()];
  }

  /** A Slack-style ts ("1712345678.000100"): unique and increasing across the workspace. */
  nextTs(): string {
    const micros = Math.max(this.now() * 1_000, this.lastMicros + 1);
    this.lastMicros = micros;
    const whole = Math.floor(micros / 1_000_000);
    const fraction = String(Math.floor(micros % 1_000_000)).padStart(6, "0");
    return `${whole}.${fraction}`;
  }

  find(channel: string, ts: string): StoredMessage | undefined {
    return this.channels.get(channel)?.messages.find((message) => message.ts === ts);
  }

  post(input: NewMessage): StoredMessage {
    const message: StoredMessage = {
      channel: input.channel,
      ts: this.nextTs(),
      threadTs: input.threadTs,
      user: input.user,
      botId: input.botId,
      text: input.text,
      blocks: input.blocks,
      editedTs: undefined,
      ephemeralTo: input.ephemeralTo,
      replyBroadcast: input.replyBroadcast ?? false,
      deleted: false,
      revision: 1,
    };
    this.channel(input.channel).messages.push(message);
    this.publish("posted", message);
    if (message.threadTs) this.touchParent(message);
    return message;
  }

  /** Changes text and blocks; `edited` marks it as chat.update does (a response_url replace does not). */
  update(message: StoredMessage, content: { text: string; blocks: unknown[] }, edited: boolean): void {
    message.text = content.text;
    message.blocks = content.blocks;
    if (edited) message.editedTs = this.nextTs();
    message.revision += 1;
    this.publish("updated", message);
  }

  delete(message: StoredMessage): void {
    const record = this.channel(message.channel);
    const hasReplies = record.messages.some((other) => other.threadTs === message.ts);
    if (hasReplies) {
      message.deleted = true;
      message.text = "This message was deleted.";
      message.blocks = [];
      message.revision += 1;
      this.publish("updated", message);
      return;
    }
    record.messages.splice(record.messages.indexOf(message), 1);
    this.publish("deleted", message);
    if (message.threadTs) this.touchParent(message);
  }

  /** The channel's messages, oldest first; with `viewer`, only those that user can see. */
  list(channel: string, viewer?: string): StoredMessage[] {
    const messages = this.channels.get(channel)?.messages ?? [];
    return viewer === undefined
      ? [...messages]
      : messages.filter((message) => message.ephemeralTo === undefined || message.ephemeralTo === viewer);
  }

  view(message: StoredMessage): MessageView {
    const replies = message.threadTs
      ? 0
      : (this.channels.get(message.channel)?.messages.filter((other) => other.threadTs === message.ts)
          .length ?? 0);
    return {
      ts: message.ts,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      user: message.user,
      ...(message.botId ? { bot_id: message.botId } : {}),
      text: message.text,
      blocks: message.blocks,
      edited: message.editedTs ?? false,
      ...(message.ephemeralTo ? { ephemeral: message.ephemeralTo } : {}),
      ...(message.replyBroadcast ? { reply_broadcast: true } : {}),
      ...(replies > 0 ? { reply_count: replies } : {}),
      ...(message.deleted ? { deleted: true } : {}),
    };
  }

  /** Forgets the messages of one channel, or of all: tests start from a clean channel. */
  clear(channel?: string): void {
    for (const record of this.channels.values()) {
      if (channel === undefined || record.id === channel) record.messages.length = 0;
    }
  }

  subscribe(listener: (change: MessageChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(kind: ChangeKind, message: StoredMessage): void {
    const change = { kind, channel: message.channel, message: this.view(message) };
    for (const listener of this.listeners) listener(change);
  }

  /** A parent's reply count changed: pages draw it again. */
  private touchParent(reply: StoredMessage): void {
    const parent = reply.threadTs ? this.find(reply.channel, reply.threadTs) : undefined;
    if (!parent) return;
    parent.revision += 1;
    this.publish("updated", parent);
  }
}
