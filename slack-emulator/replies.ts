import { assignBlockIds, validateMessageContent } from "./block-kit.ts";
import type { Workspace } from "./options.ts";
import type { ResponseTarget } from "./response-urls.ts";
import type { MessageStore, StoredMessage } from "./store.ts";

/**
 * A reply to a command or click, as Slack applies it: through a response_url, or in the body of
 * the app's acknowledgement. `response_type: in_channel` posts for everyone, anything else is
 * ephemeral (visible to the user who typed or clicked); `replace_original` and `delete_original`
 * act on the message the reply belongs to.
 */
export type ReplyOutcome =
  | { readonly ok: true; readonly message: StoredMessage | undefined; readonly action: string }
  | {
      readonly ok: false;
      readonly status: number;
      readonly error: string;
      readonly errors?: readonly string[];
    };

export interface ReplyTarget extends ResponseTarget {
  /** A command's later replies replace its last one; a click's replace the clicked message. */
  readonly kind: "command" | "action";
  /**
   * The command as typed: Slack shows it in the channel, from the user, just before the first
   * in_channel answer to it (ephemeral answers leave it private).
   */
  readonly commandLine?: string;
  echoed?: boolean;
}

const isTrue = (value: unknown) => value === true || value === "true";

export function applyReply(
  store: MessageStore,
  workspace: Workspace,
  target: ReplyTarget,
  body: Readonly<Record<string, unknown>>,
): ReplyOutcome {
  const original = target.original === undefined ? undefined : store.find(target.channel, target.original);
  if (isTrue(body.delete_original)) {
    if (!original) return { ok: false, status: 404, error: "message_not_found" };
    store.delete(original);
    return { ok: true, message: undefined, action: "deleted" };
  }
  const check = validateMessageContent({ text: body.text, blocks: body.blocks });
  if (!check.ok) {
    return { ok: false, status: 400, error: check.error, ...(check.errors ? { errors: check.errors } : {}) };
  }
  const content = {
    text: typeof body.text === "string" ? body.text : "",
    blocks: Array.isArray(body.blocks) ? assignBlockIds(body.blocks) : [],
  };
  if (isTrue(body.replace_original)) {
    if (!original) return { ok: false, status: 404, error: "message_not_found" };
    // A replacement through a response_url is not an edit: Slack shows no "(edited)".
    store.update(original, content, false);
    return { ok: true, message: original, action: "replaced" };
  }
  const threadTs =
    typeof body.thread_ts === "string" && body.thread_ts !== "" ? body.thread_ts : target.threadTs;
  const parent = threadTs === undefined ? undefined : store.find(target.channel, threadTs);
  const inChannel = body.response_type === "in_channel";
  if (inChannel && target.commandLine !== undefined && !target.echoed) {
    target.echoed = true;
    store.post({ channel: target.channel, user: target.user, text: target.commandLine, blocks: [] });
  }
  const message = store.post({
    channel: target.channel,
    user: workspace.botUserId,
    botId: workspace.botId,
    ...content,
    threadTs: parent ? (parent.threadTs ?? parent.ts) : undefined,
    ephemeralTo: inChannel ? undefined : target.user,
  });
  if (target.kind === "command") target.original = message.ts;
  return { ok: true, message, action: message.ephemeralTo ? "posted ephemeral" : "posted in channel" };
}

/**
 * The body of an app's acknowledgement as Slack reads it: JSON with text or blocks is a reply;
 * other non-empty text is shown as it is; an empty body shows nothing.
 */
export function ackReplyBody(
  raw: string,
  contentType: string | undefined,
): Record<string, unknown> | undefined {
  const trimmed = raw.trim();
  if (trimmed === "") return undefined;
  if (contentType?.includes("json") || trimmed.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        const body = parsed as Record<string, unknown>;
        const hasContent =
          (typeof body.text === "string" && body.text !== "") ||
          (Array.isArray(body.blocks) && body.blocks.length > 0);
        return hasContent ? body : undefined;
      }
    } catch {
      // Not JSON after all: Slack shows the text.
    }
  }
  return { text: trimmed };
}
