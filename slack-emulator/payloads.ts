import { randomBytes } from "node:crypto";
import type { EmulatorUser, Workspace } from "./options.ts";

/**
 * What Slack sends an app for a slash command and for a button click, field for field. Pure but
 * for the random trigger ids.
 */

export interface SlashCommandInput {
  readonly channel: { readonly id: string; readonly name: string };
  readonly user: EmulatorUser;
  /** "/harbor status": the command, then its text. */
  readonly line: string;
  readonly responseUrl: string;
}

export class CommandLineError extends Error {
  override readonly name = "CommandLineError";
}

/** "/harbor status now" -> { command: "/harbor", text: "status now" }. */
export function splitCommandLine(line: string): { command: string; text: string } {
  const match = line.trim().match(/^(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i);
  if (!match?.[1]) {
    throw new CommandLineError(
      `"${line}" is not a slash command: start it with the command, as in "/harbor status"`,
    );
  }
  return { command: match[1].toLowerCase(), text: (match[2] ?? "").trim() };
}

export function triggerId(): string {
  return `${Date.now()}.${randomBytes(6).readUIntBE(0, 6)}.${randomBytes(16).toString("hex")}`;
}

/** The fields of a slash command, in Slack's order; sent as a form body or a Socket Mode payload. */
export function slashCommandFields(workspace: Workspace, input: SlashCommandInput): Record<string, string> {
  const { command, text } = splitCommandLine(input.line);
  return {
    token: workspace.verificationToken,
    team_id: workspace.teamId,
    team_domain: workspace.teamDomain,
    channel_id: input.channel.id,
    channel_name: input.channel.name,
    user_id: input.user.id,
    user_name: input.user.name,
    command,
    text,
    api_app_id: workspace.appId,
    is_enterprise_install: "false",
    response_url: input.responseUrl,
    trigger_id: triggerId(),
  };
}

export interface ButtonClickInput {
  readonly channel: { readonly id: string; readonly name: string };
  readonly user: EmulatorUser;
  /** The message the button is on, as the client shows it (absent fields for an ephemeral one). */
  readonly message: Readonly<Record<string, unknown>>;
  readonly messageTs: string;
  readonly isEphemeral: boolean;
  readonly action: ClickedButton;
  readonly responseUrl: string;
  readonly actionTs: string;
}

export interface ClickedButton {
  readonly actionId: string;
  readonly blockId: string;
  readonly value: string | undefined;
  readonly text: string | undefined;
  readonly style: string | undefined;
}

/** A `block_actions` interaction payload for one button click. */
export function blockActionsPayload(workspace: Workspace, input: ButtonClickInput): Record<string, unknown> {
  const { action } = input;
  return {
    type: "block_actions",
    user: { id: input.user.id, username: input.user.name, name: input.user.name, team_id: workspace.teamId },
    api_app_id: workspace.appId,
    token: workspace.verificationToken,
    container: {
      type: "message",
      message_ts: input.messageTs,
      channel_id: input.channel.id,
      is_ephemeral: input.isEphemeral,
    },
    trigger_id: triggerId(),
    team: { id: workspace.teamId, domain: workspace.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel.id, name: input.channel.name },
    // Slack leaves the message out of clicks on ephemeral messages: only the client had it.
    ...(input.isEphemeral ? {} : { message: input.message }),
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: "button",
        action_id: action.actionId,
        block_id: action.blockId,
        text: { type: "plain_text", text: action.text ?? action.actionId, emoji: true },
        ...(action.value === undefined ? {} : { value: action.value }),
        ...(action.style === undefined ? {} : { style: action.style }),
        action_ts: input.actionTs,
      },
    ],
  };
}

/** Finds a button in a message's blocks by action_id (and block_id when given). */
export function findButton(
  blocks: readonly unknown[],
  actionId: string,
  blockId: string | undefined,
): ClickedButton | undefined {
  for (const block of blocks) {
    if (typeof block !== "object" || block === null) continue;
    const record = block as Record<string, unknown>;
    const id = typeof record.block_id === "string" ? record.block_id : undefined;
    if (blockId !== undefined && id !== blockId) continue;
    const elements = [
      ...(Array.isArray(record.elements) ? record.elements : []),
      ...(record.accessory === undefined ? [] : [record.accessory]),
    ];
    for (const element of elements) {
      if (typeof element !== "object" || element === null) continue;
      const button = element as Record<string, unknown>;
      if (button.type !== "button" || button.action_id !== actionId) continue;
      const text = button.text as { text?: unknown } | undefined;
      return {
        actionId,
        blockId: id ?? blockId ?? "",
        value: typeof button.value === "string" ? button.value : undefined,
        text: typeof text?.text === "string" ? text.text : undefined,
        style: typeof button.style === "string" ? button.style : undefined,
      };
    }
  }
  return undefined;
}
