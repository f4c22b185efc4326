/**
 * The Block Kit shapes the bot sends, and Slack's limits on them, in one place: every view is
 * built from these helpers, so none can exceed a limit by accident.
 */

export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3_000,
  fields: 10,
  fieldText: 2_000,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2_000,
  messageText: 40_000,
} as const;

export interface TextObject {
  readonly type: "mrkdwn" | "plain_text";
  readonly text: string;
  readonly emoji?: boolean;
}

export interface ButtonElement {
  readonly type: "button";
  readonly action_id: string;
  readonly text: TextObject;
  readonly value?: string;
  readonly style?: "primary" | "danger";
}

export type Block =
  | { readonly type: "header"; readonly text: TextObject }
  | { readonly type: "section"; readonly text?: TextObject; readonly fields?: readonly TextObject[] }
  | { readonly type: "context"; readonly elements: readonly TextObject[] }
  | { readonly type: "divider" }
  | { readonly type: "actions"; readonly block_id?: string; readonly elements: readonly ButtonElement[] };

/** Cuts text to a limit, saying that it was cut. */
export function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export function header(text: string): Block {
  return { type: "header", text: { type: "plain_text", text: clip(text, LIMITS.headerText), emoji: true } };
}

export function section(markdown: string): Block {
  return { type: "section", text: { type: "mrkdwn", text: clip(markdown, LIMITS.sectionText) } };
}

export function fieldsSection(markdown: string, fields: readonly string[]): Block {
  return {
    type: "section",
    text: { type: "mrkdwn", text: clip(markdown, LIMITS.sectionText) },
    fields: fields
      .slice(0, LIMITS.fields)
      .map((field) => ({ type: "mrkdwn", text: clip(field, LIMITS.fieldText) })),
  };
}

export function context(...markdown: string[]): Block {
  return {
    type: "context",
    elements: markdown
      .slice(0, LIMITS.contextElements)
      .map((text) => ({ type: "mrkdwn", text: clip(text, LIMITS.sectionText) })),
  };
}

export const divider: Block = { type: "divider" };

/** Text for mrkdwn that must not be read as formatting or mentions (Slack's three escapes). */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
