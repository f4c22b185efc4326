/**
 * Slack's limits on a message's text and Block Kit, checked the way chat.postMessage checks them:
 * every problem at once, each named by a JSON pointer to the block (`[json-pointer:/blocks/3/text]`),
 * so a bot that builds a 51st block or a 3001-character section learns it here, not in production.
 * Pure.
 */

export const LIMITS = {
  blocksPerMessage: 50,
  messageText: 40_000,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2_000,
  buttonUrl: 3_000,
  actionId: 255,
  blockId: 255,
  imageAltText: 2_000,
} as const;

export type ContentCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string; readonly errors?: readonly string[] };

const KNOWN_BLOCKS = new Set([
  "section",
  "header",
  "context",
  "divider",
  "actions",
  "image",
  "input",
  "rich_text",
  "markdown",
  "file",
  "video",
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Problems {
  readonly list: string[] = [];
  add(pointer: string, message: string): void {
    this.list.push(`${message} [json-pointer:${pointer}]`);
  }
}

function checkTextObject(
  value: unknown,
  pointer: string,
  problems: Problems,
  options: { max: number; plainOnly?: boolean; what: string },
): void {
  if (!isObject(value)) {
    problems.add(pointer, `${options.what} must be a text object`);
    return;
  }
  const allowed = options.plainOnly ? ["plain_text"] : ["plain_text", "mrkdwn"];
  if (!allowed.includes(String(value.type))) {
    problems.add(`${pointer}/type`, `${options.what} must be of type ${allowed.join(" or ")}`);
  }
  const text = value.text;
  if (typeof text !== "string" || text.length === 0) {
    problems.add(`${pointer}/text`, `${options.what} must be a non-empty string`);
  } else if (text.length > options.max) {
    problems.add(
      `${pointer}/text`,
      `${options.what} must be at most ${options.max} characters (it has ${text.length})`,
    );
  }
}

function checkButton(element: Json, pointer: string, problems: Problems): void {
  checkTextObject(element.text, `${pointer}/text`, problems, {
    max: LIMITS.buttonText,
    plainOnly: true,
    what: "button text",
  });
  if (typeof element.value === "string" && element.value.length > LIMITS.buttonValue) {
    problems.add(`${pointer}/value`, `button value must be at most ${LIMITS.buttonValue} characters`);
  }
  if (typeof element.url === "string" && element.url.length > LIMITS.buttonUrl) {
    problems.add(`${pointer}/url`, `button url must be at most ${LIMITS.buttonUrl} characters`);
  }
  if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
    problems.add(`${pointer}/style`, `button style must be primary or danger`);
  }
}

function checkElement(element: unknown, pointer: string, problems: Problems, actionIds: Set<string>): void {
  if (!isObject(element) || typeof element.type !== "string") {
    problems.add(pointer, "element must be an object with a type");
    return;
  }
  if (element.action_id !== undefined) {
    const id = element.action_id;
    if (typeof id !== "string" || id.length === 0 || id.length > LIMITS.actionId) {
      problems.add(`${pointer}/action_id`, `action_id must be 1 to ${LIMITS.actionId} characters`);
    } else if (actionIds.has(id)) {
      problems.add(`${pointer}/action_id`, `action_id "${id}" is already used in this block`);
    } else {
      actionIds.add(id);
    }
  }
  if (element.type === "button") checkButton(element, pointer, problems);
}

function checkSection(block: Json, pointer: string, problems: Problems): void {
  if (block.text === undefined && block.fields === undefined) {
    problems.add(pointer, "section block needs text or fields");
  }
  if (block.text !== undefined) {
    checkTextObject(block.text, `${pointer}/text`, problems, {
      max: LIMITS.sectionText,
      what: "section text",
    });
  }
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields) || block.fields.length === 0) {
      problems.add(`${pointer}/fields`, "section fields must be a non-empty array");
    } else {
      if (block.fields.length > LIMITS.sectionFields) {
        problems.add(
          `${pointer}/fields`,
          `section may have at most ${LIMITS.sectionFields} fields (it has ${block.fields.length})`,
        );
      }
      block.fields.forEach((field, index) => {
        checkTextObject(field, `${pointer}/fields/${index}`, problems, {
          max: LIMITS.sectionFieldText,
          what: "section field",
        });
      });
    }
  }
  if (block.accessory !== undefined)
    checkElement(block.accessory, `${pointer}/accessory`, problems, new Set());
}

function checkElementList(
  block: Json,
  pointer: string,
  problems: Problems,
  max: number,
  check: (element: unknown, elementPointer: string) => void,
): void {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0) {
    problems.add(`${pointer}/elements`, `${String(block.type)} block needs a non-empty elements array`);
    return;
  }
  if (elements.length > max) {
    problems.add(
      `${pointer}/elements`,
      `${String(block.type)} block may have at most ${max} elements (it has ${elements.length})`,
    );
  }
  elements.forEach((element, index) => {
    check(element, `${pointer}/elements/${index}`);
  });
}

function checkBlock(block: unknown, pointer: string, problems: Problems, blockIds: Set<string>): void {
  if (!isObject(block) || typeof block.type !== "string") {
    problems.add(pointer, "block must be an object with a type");
    return;
  }
  if (!KNOWN_BLOCKS.has(block.type)) {
    problems.add(`${pointer}/type`, `unknown block type "${block.type}"`);
    return;
  }
  if (block.block_id !== undefined) {
    const id = block.block_id;
    if (typeof id !== "string" || id.length === 0 || id.length > LIMITS.blockId) {
      problems.add(`${pointer}/block_id`, `block_id must be 1 to ${LIMITS.blockId} characters`);
    } else if (blockIds.has(id)) {
      problems.add(`${pointer}/block_id`, `block_id "${id}" is used by another block of this message`);
    } else {
      blockIds.add(id);
    }
  }
  switch (block.type) {
    case "section":
      checkSection(block, pointer, problems);
      break;
    case "header":
      checkTextObject(block.text, `${pointer}/text`, problems, {
        max: LIMITS.headerText,
        plainOnly: true,
        what: "header text",
      });
      break;
    case "context":
      checkElementList(block, pointer, problems, LIMITS.contextElements, (element, elementPointer) => {
        if (isObject(element) && element.type === "image") return;
        checkTextObject(element, elementPointer, problems, { max: LIMITS.sectionText, what: "context text" });
      });
      break;
    case "actions": {
      const actionIds = new Set<string>();
      checkElementList(block, pointer, problems, LIMITS.actionsElements, (element, elementPointer) =>
        checkElement(element, elementPointer, problems, actionIds),
      );
      break;
    }
    case "image":
      if (typeof block.alt_text !== "string" || block.alt_text.length > LIMITS.imageAltText) {
        problems.add(
          `${pointer}/alt_text`,
          `image alt_text must be a string of at most ${LIMITS.imageAltText}`,
        );
      }
      break;
    default:
      // divider, input, rich_text, markdown, file, video: accepted as they are.
      break;
  }
}

/** The blocks of one message: `invalid_blocks` with every problem, or ok. */
export function validateBlocks(blocks: unknown): ContentCheck {
  if (!Array.isArray(blocks)) return { ok: false, error: "invalid_blocks_format" };
  const problems = new Problems();
  if (blocks.length > LIMITS.blocksPerMessage) {
    problems.add(
      "/blocks",
      `a message may have at most ${LIMITS.blocksPerMessage} blocks (it has ${blocks.length})`,
    );
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, index) => {
    checkBlock(block, `/blocks/${index}`, problems, blockIds);
  });
  return problems.list.length === 0
    ? { ok: true }
    : { ok: false, error: "invalid_blocks", errors: problems.list };
}

/**
 * A whole message as chat.postMessage sees it: text and/or blocks (`no_text` if neither),
 * text within 40,000 characters (`msg_too_long`), then the blocks.
 */
export function validateMessageContent(content: { text?: unknown; blocks?: unknown }): ContentCheck {
  const text = typeof content.text === "string" ? content.text : "";
  const hasBlocks = Array.isArray(content.blocks) && content.blocks.length > 0;
  if (content.blocks !== undefined && !Array.isArray(content.blocks)) {
    return { ok: false, error: "invalid_blocks_format" };
  }
  if (text.trim() === "" && !hasBlocks) return { ok: false, error: "no_text" };
  if (text.length > LIMITS.messageText) return { ok: false, error: "msg_too_long" };
  return hasBlocks ? validateBlocks(content.blocks) : { ok: true };
}

/**
 * Slack gives every block without a block_id one of its own (a few random characters), and
 * sends it back in clicks: so do we, or a click on such a block could not say where it was.
 */
export function assignBlockIds(blocks: readonly unknown[], random: () => number = Math.random): unknown[] {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const taken = new Set(blocks.map((block) => (isObject(block) ? block.block_id : undefined)));
  return blocks.map((block) => {
    if (!isObject(block) || block.block_id !== undefined) return block;
    let id: string;
    do {
      id = Array.from({ length: 5 }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    } while (taken.has(id));
    taken.add(id);
    return { ...block, block_id: id };
  });
}
