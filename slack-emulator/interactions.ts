import type { BotDelivery, Delivery, OutgoingRequest, Transport } from "./bot-delivery.ts";
import type { EmulatorUser, ResolvedOptions } from "./options.ts";
import { blockActionsPayload, type ClickedButton, findButton, slashCommandFields } from "./payloads.ts";
import { ackReplyBody, applyReply, type ReplyTarget } from "./replies.ts";
import type { ResponseUrls } from "./response-urls.ts";
import type { MessageStore, MessageView } from "./store.ts";

export interface SendOptions {
  /** Slack's retries of the same request (X-Slack-Retry-Num 1..n), sent after the first. */
  readonly retries?: number;
  readonly retryReason?: string;
  /** Default: Socket Mode when an app is connected, else HTTP. */
  readonly transport?: Transport;
}

export interface CommandInput extends SendOptions {
  readonly channel: string;
  readonly user: string;
  /** "/harbor status" */
  readonly text: string;
}

export interface ActionInput extends SendOptions {
  readonly channel: string;
  readonly user: string;
  readonly messageTs: string;
  readonly actionId: string;
  readonly blockId?: string;
  readonly value?: string;
}

/** What the emulator tells whoever sent the command or click. */
export interface InteractionResult extends Delivery {
  readonly ok: boolean;
  readonly response_url: string;
  readonly trigger_id: string;
  /** The later deliveries when retries were asked for. */
  readonly retries: readonly Delivery[];
  /** The ack's reply as the user sees it, if the ack carried one. */
  readonly shown: MessageView | undefined;
}

export class InteractionError extends Error {
  override readonly name = "InteractionError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface InteractionDeps {
  readonly options: ResolvedOptions;
  readonly store: MessageStore;
  readonly responseUrls: ResponseUrls<ReplyTarget>;
  readonly delivery: BotDelivery;
  /** http://HOST:PORT of the emulator, for response URLs. */
  readonly origin: () => string;
}

/**
 * Slash commands and button clicks from a user to the bot, as Slack sends them; then what Slack
 * does with the answer: an ack with content is shown to the user, a missing or failed ack
 * becomes Slack's "failed with the error" note.
 */
export class Interactions {
  /** The last action_ts given, in microseconds. */
  private lastActionMicros = 0;

  constructor(private readonly deps: InteractionDeps) {}

  /**
   * Slack gives every click its own action_ts (to the microsecond); only a retry of the same
   * delivery repeats it, and bots dedupe on it. Two clicks in one millisecond must differ too.
   */
  private nextActionTs(now: number): string {
    this.lastActionMicros = Math.max(Math.round(now * 1_000), this.lastActionMicros + 1);
    return (this.lastActionMicros / 1_000_000).toFixed(6);
  }

  private user(id: string): EmulatorUser {
    return this.deps.options.users.find((user) => user.id === id) ?? { id, name: id.toLowerCase() };
  }

  async command(input: CommandInput): Promise<InteractionResult> {
    const { store, options } = this.deps;
    const channel = store.channel(input.channel);
    const user = this.user(input.user);
    const target: ReplyTarget = {
      kind: "command",
      channel: channel.id,
      user: user.id,
      original: undefined,
      threadTs: undefined,
      commandLine: input.text.trim(),
    };
    const responseUrl = this.responseUrl(target);
    const fields = slashCommandFields(options.workspace, {
      channel,
      user,
      line: input.text,
      responseUrl,
    });
    const request: OutgoingRequest = {
      envelopeType: "slash_commands",
      payload: fields,
      formBody: new URLSearchParams(fields).toString(),
    };
    const result = await this.send(request, input, target, (first) => {
      if (first.acked) return;
      const reason =
        first.error === "http_timeout" || first.error === "socket_timeout"
          ? "operation_timeout"
          : "dispatch_failed";
      return { text: `${fields.command} failed with the error "${reason}"` };
    });
    return { ...result, response_url: responseUrl, trigger_id: fields.trigger_id ?? "" };
  }

  async action(input: ActionInput): Promise<InteractionResult> {
    const { store, options } = this.deps;
    const channel = store.channel(input.channel);
    const user = this.user(input.user);
    const message = store.find(channel.id, input.messageTs);
    if (!message || (message.ephemeralTo !== undefined && message.ephemeralTo !== user.id)) {
      throw new InteractionError(
        `no message ${input.messageTs} in ${channel.id} that ${user.id} can see`,
        404,
        "message_not_found",
      );
    }
    // A click on a button that is no longer there (a stale client) is still sent, as Slack would.
    const found = findButton(message.blocks, input.actionId, input.blockId);
    const button: ClickedButton = {
      actionId: input.actionId,
      blockId: input.blockId ?? found?.blockId ?? "",
      value: input.value ?? found?.value,
      text: found?.text,
      style: found?.style,
    };
    const target: ReplyTarget = {
      kind: "action",
      channel: channel.id,
      user: user.id,
      original: message.ts,
      threadTs: message.threadTs,
    };
    const responseUrl = this.responseUrl(target);
    const payload = blockActionsPayload(options.workspace, {
      channel,
      user,
      message: { type: "message", ...store.view(message), team: options.workspace.teamId },
      messageTs: message.ts,
      isEphemeral: message.ephemeralTo !== undefined,
      action: button,
      responseUrl,
      actionTs: this.nextActionTs(options.now()),
    });
    const request: OutgoingRequest = {
      envelopeType: "interactive",
      payload,
      formBody: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    };
    // Slack shows nothing from a block_actions ack: replies come through response_url or the API.
    const result = await this.send(request, input, undefined, () => undefined);
    return { ...result, response_url: responseUrl, trigger_id: String(payload.trigger_id) };
  }

  private responseUrl(target: ReplyTarget): string {
    return `${this.deps.origin()}/emulator/respond/${this.deps.responseUrls.issue(target)}`;
  }

  private async send(
    request: OutgoingRequest,
    input: SendOptions,
    target: ReplyTarget | undefined,
    failureNote: (first: Delivery) => { text: string } | undefined,
  ): Promise<Omit<InteractionResult, "response_url" | "trigger_id">> {
    const transport = this.deps.delivery.transportFor(input.transport);
    const first = await this.deps.delivery.deliver(request, transport);
    let shown = target ? this.showAck(first, target) : undefined;
    const note = failureNote(first);
    if (note && target) shown = this.show(target, note);
    const retries: Delivery[] = [];
    const count = Math.min(Math.max(0, Math.floor(input.retries ?? 0)), 3);
    for (let num = 1; num <= count; num++) {
      const retry = await this.deps.delivery.deliver(request, transport, {
        num,
        reason: input.retryReason ?? "http_timeout",
      });
      retries.push(retry);
      if (target) this.showAck(retry, target);
    }
    return { ok: first.acked, ...first, retries, shown };
  }

  private showAck(delivery: Delivery, target: ReplyTarget): MessageView | undefined {
    if (!delivery.acked) return undefined;
    const body = ackReplyBody(delivery.rawBody, delivery.contentType);
    return body ? this.show(target, body) : undefined;
  }

  private show(target: ReplyTarget, body: Record<string, unknown>): MessageView | undefined {
    const outcome = applyReply(this.deps.store, this.deps.options.workspace, target, body);
    return outcome.ok && outcome.message ? this.deps.store.view(outcome.message) : undefined;
  }
}
