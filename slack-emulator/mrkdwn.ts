/**
 * Slack's mrkdwn to HTML, for the channel page: ```code blocks```, `code`, *bold*, _italic_,
 * ~strike~, > quotes, <url|text> links, <@U123> mentions, <#C123|name> channels, <!here>, and
 * :emoji: left as text. The input is Slack text, where the app escaped &, < and > as entities;
 * the output is safe HTML (nothing from the text can open a tag or an attribute). Pure.
 */

export interface MrkdwnContext {
  /** A user's display name, for <@U123>. */
  readonly userName?: (id: string) => string | undefined;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Slack text carries &amp; &lt; &gt; already; read them back before escaping for HTML. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function safeHref(url: string): string | undefined {
  return /^(https?:|mailto:)/i.test(url) ? url : undefined;
}

/** One `<...>` token: a link, a mention, a channel or a special mention. */
function renderAngle(inner: string, context: MrkdwnContext): string {
  const [target = "", label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = label ?? context.userName?.(id) ?? id;
    return `<span class="mention" data-user-id="${escapeHtml(id)}">@${escapeHtml(unescapeSlack(name))}</span>`;
  }
  if (target.startsWith("#")) {
    return `<span class="mention">#${escapeHtml(unescapeSlack(label ?? target.slice(1)))}</span>`;
  }
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0] ?? "";
    return `<span class="mention">@${escapeHtml(unescapeSlack(label ?? special))}</span>`;
  }
  const href = safeHref(unescapeSlack(target));
  const text = escapeHtml(unescapeSlack(label ?? target));
  return href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noreferrer">${text}</a>` : text;
}

const PLACEHOLDER = "\u0000";

/** Bold, italic and strike in text already escaped for HTML (so `*`, `_`, `~` are still plain). */
function renderEmphasis(html: string): string {
  return html
    .replace(/(^|[^\w*])\*(?!\s)([^*\n]*?[^\s*])\*(?!\w)/g, "$1<b>$2</b>")
    .replace(/(^|[^\w_])_(?!\s)([^_\n]*?[^\s_])_(?!\w)/g, "$1<i>$2</i>")
    .replace(/(^|[^\w~])~(?!\s)([^~\n]*?[^\s~])~(?!\w)/g, "$1<s>$2</s>");
}

function renderInline(text: string, context: MrkdwnContext): string {
  const tokens: string[] = [];
  const keep = (html: string) => {
    tokens.push(html);
    return `${PLACEHOLDER}${tokens.length - 1}${PLACEHOLDER}`;
  };
  // Inline code and <...> tokens first: nothing inside them is formatting.
  let rest = text.replace(/`([^`\n]+)`/g, (_, code: string) =>
    keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`),
  );
  rest = rest.replace(/<([^<>\n]+)>/g, (_, inner: string) => keep(renderAngle(inner, context)));
  let html = renderEmphasis(escapeHtml(unescapeSlack(rest)));
  html = html.replace(new RegExp(`${PLACEHOLDER}(\\d+)${PLACEHOLDER}`, "g"), (_, index: string) => {
    return tokens[Number(index)] ?? "";
  });
  return html;
}

function renderLines(text: string, context: MrkdwnContext): string {
  const out: string[] = [];
  let quote: string[] = [];
  const flushQuote = () => {
    if (quote.length > 0) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    quote = [];
  };
  for (const line of text.split("\n")) {
    const quoted = line.match(/^(?:>|&gt;) ?(.*)$/);
    if (quoted) {
      quote.push(renderInline(quoted[1] ?? "", context));
      continue;
    }
    flushQuote();
    out.push(renderInline(line, context));
  }
  flushQuote();
  return out
    .join("<br>")
    .replace(/<br><blockquote>/g, "<blockquote>")
    .replace(/<\/blockquote><br>/g, "</blockquote>");
}

export function renderMrkdwn(text: string, context: MrkdwnContext = {}): string {
  const parts = text.split(/```([\s\S]*?)```/);
  return parts
    .map((part, index) =>
      index % 2 === 1
        ? `<pre class="code">${escapeHtml(unescapeSlack(part.replace(/^\n/, "")))}</pre>`
        : renderLines(part, context),
    )
    .join("");
}

/** plain_text as Slack shows it: no formatting, entities read back, then escaped for HTML. */
export function renderPlainText(text: string): string {
  return escapeHtml(unescapeSlack(text)).replace(/\n/g, "<br>");
}
