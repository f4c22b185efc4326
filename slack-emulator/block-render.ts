import { escapeHtml, type MrkdwnContext, renderMrkdwn, renderPlainText } from "./mrkdwn.ts";

/**
 * Block Kit to HTML for the channel page: header, section (text, fields, a button accessory),
 * context, divider, actions with buttons (primary/danger), image as its alt text (the page loads
 * nothing from outside), and a plain fallback for the rest. Every button carries its action_id,
 * block_id and value as data attributes, for the page's click handler and for Playwright. Pure.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function text(value: unknown, context: MrkdwnContext): string {
  if (!isObject(value) || typeof value.text !== "string") return "";
  return value.type === "mrkdwn" ? renderMrkdwn(value.text, context) : renderPlainText(value.text);
}

function attr(value: unknown): string {
  return escapeHtml(typeof value === "string" ? value : "");
}

function renderButton(element: Json, blockId: string, context: MrkdwnContext): string {
  const style = element.style === "primary" || element.style === "danger" ? element.style : "default";
  return (
    `<button type="button" class="sk-button sk-button-${style}" data-action-id="${attr(element.action_id)}"` +
    ` data-block-id="${attr(blockId)}"${typeof element.value === "string" ? ` data-value="${attr(element.value)}"` : ""}>` +
    `${text(element.text, context)}</button>`
  );
}

function renderElement(element: unknown, blockId: string, context: MrkdwnContext): string {
  if (!isObject(element)) return "";
  switch (element.type) {
    case "button":
      return renderButton(element, blockId, context);
    case "image":
      return `<span class="sk-image">[${attr(element.alt_text)}]</span>`;
    case "plain_text":
    case "mrkdwn":
      return `<span class="sk-context-text">${text(element, context)}</span>`;
    default: {
      const placeholder = isObject(element.placeholder) ? text(element.placeholder, context) : "";
      return `<span class="sk-unsupported">[${attr(element.type)}${placeholder ? `: ${placeholder}` : ""}]</span>`;
    }
  }
}

/** rich_text is Slack's own editor's output: show its words, without its structure. */
function richTextWords(value: unknown): string {
  if (Array.isArray(value)) return value.map(richTextWords).join("");
  if (!isObject(value)) return "";
  if (typeof value.text === "string") return value.text;
  if (typeof value.url === "string") return value.url;
  if (value.type === "user" && typeof value.user_id === "string") return `@${value.user_id}`;
  return richTextWords(value.elements);
}

function renderBlock(block: unknown, context: MrkdwnContext): string {
  if (!isObject(block)) return "";
  const blockId = typeof block.block_id === "string" ? block.block_id : "";
  const open = (kind: string) => `<div class="sk-block sk-${kind}" data-block-id="${attr(blockId)}">`;
  switch (block.type) {
    case "header":
      return `${open("header")}${text(block.text, context)}</div>`;
    case "section": {
      const fields = Array.isArray(block.fields)
        ? `<div class="sk-fields">${block.fields.map((field) => `<div class="sk-field">${text(field, context)}</div>`).join("")}</div>`
        : "";
      const accessory = block.accessory
        ? `<div class="sk-accessory">${renderElement(block.accessory, blockId, context)}</div>`
        : "";
      const body = block.text ? `<div class="sk-text">${text(block.text, context)}</div>` : "";
      return `${open("section")}<div class="sk-section-main">${body}${fields}</div>${accessory}</div>`;
    }
    case "context": {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return `${open("context")}${elements.map((element) => renderElement(element, blockId, context)).join("")}</div>`;
    }
    case "divider":
      return `${open("divider")}<hr></div>`;
    case "actions": {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return `${open("actions")}${elements.map((element) => renderElement(element, blockId, context)).join("")}</div>`;
    }
    case "image":
      return `${open("image")}<span class="sk-image">[image: ${attr(block.alt_text)}]</span></div>`;
    case "markdown":
      return `${open("markdown")}${renderMrkdwn(typeof block.text === "string" ? block.text : "", context)}</div>`;
    case "rich_text":
      return `${open("rich-text")}${renderPlainText(richTextWords(block.elements))}</div>`;
    default:
      return `${open("unsupported")}[${attr(block.type)} block]</div>`;
  }
}

/** A message's body: its blocks when it has any (Slack then shows the text only in notifications). */
export function renderMessageBody(
  message: { readonly text: string; readonly blocks: readonly unknown[] },
  context: MrkdwnContext = {},
): string {
  if (message.blocks.length > 0) {
    return message.blocks.map((block) => renderBlock(block, context)).join("");
  }
  return `<div class="sk-text">${renderMrkdwn(message.text, context)}</div>`;
}
