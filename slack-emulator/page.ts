import type { EmulatorUser } from "./options.ts";
import { PAGE_SCRIPT } from "./page-script.ts";

/**
 * The channel page at `GET /`: one self-contained HTML document (inline style and script, no
 * fonts, images or scripts from anywhere else). Stable hooks for tests: #channel-input,
 * #user-select, #messages, .message[data-ts], .edited, .ephemeral-note, [data-thread-toggle],
 * [data-replies-for], button[data-action-id], #command-input, #command-form, #command-status.
 */

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1c1d;background:#fff;
  display:flex;flex-direction:column;height:100vh}
header{display:flex;gap:12px;align-items:center;padding:8px 16px;background:#3f0e40;color:#fff;flex-wrap:wrap}
header h1{font-size:16px;margin:0 8px 0 0}
header label{display:flex;gap:6px;align-items:center;font-size:13px}
header input,header select{font:inherit;padding:3px 6px;border-radius:4px;border:1px solid #ccc}
#live-status{font-size:12px;padding:2px 8px;border-radius:10px;background:#7c3085}
#live-status[data-state=live]{background:#2eb67d}
#transport-status{font-size:12px;opacity:.85;margin-left:auto}
#messages{flex:1;overflow-y:auto;padding:8px 0}
#empty-note{color:#616061;padding:16px 20px}
.message{padding:6px 20px;border-left:3px solid transparent}
.message:hover{background:#f8f8f8}
.message.ephemeral{background:#f4f9ff;border-left-color:#1d9bd1}
.meta{display:flex;gap:8px;align-items:baseline}
.author{font-weight:700}
.app-tag{font-size:10px;background:#e8e8e8;color:#616061;padding:0 4px;border-radius:3px}
.time,.edited{color:#616061;font-size:12px}
.ephemeral-note{color:#616061;font-size:12px;font-style:italic}
.broadcast-note{color:#616061;font-size:12px}
.thread-toggle{border:0;background:none;color:#1264a3;font:inherit;font-weight:700;font-size:13px;padding:2px 0;cursor:pointer}
.replies{margin:4px 0 4px 12px;border-left:2px solid #ddd}
.replies .message{padding:4px 12px}
.sk-block{margin:4px 0}
.sk-header{font-size:17px;font-weight:800}
.sk-section{display:flex;gap:12px;align-items:flex-start}
.sk-section-main{flex:1}
.sk-fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.sk-context{display:flex;gap:8px;color:#616061;font-size:12px;flex-wrap:wrap}
.sk-divider hr{border:0;border-top:1px solid #ddd}
.sk-actions{display:flex;gap:8px;flex-wrap:wrap}
.sk-button{font:inherit;font-size:13px;font-weight:700;padding:4px 12px;border-radius:4px;border:1px solid #bbb;
  background:#fff;color:#1d1c1d;cursor:pointer}
.sk-button-primary{background:#007a5a;border-color:#007a5a;color:#fff}
.sk-button-danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
.sk-button:disabled{opacity:.5}
.sk-image,.sk-unsupported{color:#616061;font-style:italic}
code{background:#f6f6f6;border:1px solid #e0e0e0;border-radius:3px;padding:0 3px;color:#e01e5a;font-size:12px}
pre.code{background:#f6f6f6;border:1px solid #e0e0e0;border-radius:4px;padding:8px;margin:4px 0;white-space:pre-wrap;font-size:12px}
blockquote{margin:2px 0;padding-left:10px;border-left:4px solid #ddd}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
footer{border-top:1px solid #ddd;padding:10px 16px}
#command-form{display:flex;gap:8px}
#command-input{flex:1;font:inherit;padding:8px 10px;border:1px solid #bbb;border-radius:6px}
#command-send{font:inherit;font-weight:700;padding:6px 14px;border-radius:6px;border:0;background:#007a5a;color:#fff}
#command-status{font-size:12px;color:#616061;min-height:1.4em;margin-top:4px}
#command-status[data-state=error]{color:#e01e5a}
`;

export interface PageConfig {
  readonly channel: string;
  readonly users: readonly EmulatorUser[];
  readonly botUserId: string;
}

/** JSON inside a <script> element: `<` is escaped so no text can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export function channelPage(config: PageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harbor-ha Slack emulator</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>harbor-ha · Slack emulator</h1>
  <label>channel <input id="channel-input" size="12" autocomplete="off"></label>
  <label>you are <select id="user-select"></select></label>
  <span id="live-status" data-state="down">connecting</span>
  <span id="transport-status"></span>
</header>
<div id="messages" aria-live="polite"></div>
<div id="empty-note" hidden>No messages in this channel yet. Type a command below, such as /harbor status.</div>
<footer>
  <form id="command-form" autocomplete="off">
    <input id="command-input" placeholder="/harbor status" aria-label="slash command">
    <button id="command-send" type="submit">Send</button>
  </form>
  <div id="command-status" aria-live="polite"></div>
</footer>
<script id="emulator-config" type="application/json">${scriptJson(config)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
