/**
 * The channel page's script, run in the browser as it is (plain ES2017, no build step, no
 * template literals so that this file can hold it in one). It draws the messages the server
 * renders (`/emulator/view`), keeps each one's element while its revision is unchanged, follows
 * `/emulator/events` (SSE) for changes, and sends commands and clicks as the selected user.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("emulator-config").textContent);
  var channelInput = document.getElementById("channel-input");
  var userSelect = document.getElementById("user-select");
  var list = document.getElementById("messages");
  var form = document.getElementById("command-form");
  var input = document.getElementById("command-input");
  var status = document.getElementById("command-status");
  var live = document.getElementById("live-status");
  var transport = document.getElementById("transport-status");
  var expanded = new Set();
  var elements = new Map();
  var source = null;
  var busy = false;
  var again = false;

  var query = new URLSearchParams(location.search);
  channelInput.value = query.get("channel") || config.channel;
  config.users.forEach(function (user) {
    var option = document.createElement("option");
    option.value = user.id;
    option.textContent = user.name + " (" + user.id + ")";
    userSelect.appendChild(option);
  });
  var wanted = query.get("user") || localStorage.getItem("emulator-user");
  if (wanted && config.users.some(function (user) { return user.id === wanted; })) userSelect.value = wanted;

  function channel() { return channelInput.value.trim() || config.channel; }
  function user() { return userSelect.value; }

  function remember() {
    localStorage.setItem("emulator-user", user());
    history.replaceState(null, "", "?channel=" + encodeURIComponent(channel()) + "&user=" + encodeURIComponent(user()));
  }

  function escapeText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function time(ts) {
    var date = new Date(Number(ts) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function messageHtml(message, replies, place) {
    var classes = "message" + (message.is_bot ? " bot" : "") + (message.ephemeral ? " ephemeral" : "");
    var html = '<div class="meta"><span class="author">' + escapeText(message.user_name) + "</span>";
    if (message.is_bot) html += '<span class="app-tag">APP</span>';
    html += '<span class="time">' + time(message.ts) + "</span>";
    if (message.edited) html += '<span class="edited">(edited)</span>';
    html += "</div>";
    if (message.reply_broadcast) {
      html += '<div class="broadcast-note">' + (place === "thread" ? "also sent to the channel" : "replied to a thread") + "</div>";
    }
    html += '<div class="body">' + message.html + "</div>";
    if (message.ephemeral) html += '<div class="ephemeral-note">Only visible to you</div>';
    if (replies && replies.length > 0) {
      var open = expanded.has(message.ts);
      html += '<button type="button" class="thread-toggle" data-thread-toggle="' + message.ts + '">' +
        replies.length + (replies.length === 1 ? " reply" : " replies") + (open ? " \u25BE" : " \u25B8") + "</button>";
      html += '<div class="replies" data-replies-for="' + message.ts + '"' + (open ? "" : " hidden") + ">";
      replies.forEach(function (reply) {
        html += '<div class="message reply' + (reply.is_bot ? " bot" : "") + (reply.ephemeral ? " ephemeral" : "") +
          '" data-ts="' + reply.ts + '" data-thread-ts="' + reply.thread_ts + '" data-user="' + reply.user + '"' +
          (reply.ephemeral ? ' data-ephemeral="' + reply.ephemeral + '"' : "") + ">" + messageHtml(reply, null, "thread").inner + "</div>";
      });
      html += "</div>";
    }
    return { classes: classes, inner: html };
  }

  function draw(messages) {
    var replies = {};
    var top = [];
    messages.forEach(function (message) {
      if (message.thread_ts) {
        (replies[message.thread_ts] = replies[message.thread_ts] || []).push(message);
        if (message.reply_broadcast) top.push({ message: message, key: message.ts + "#broadcast" });
      } else {
        top.push({ message: message, key: message.ts });
      }
    });
    var seen = new Set();
    var previous = null;
    top.forEach(function (item) {
      var message = item.message;
      var own = message.thread_ts ? null : replies[message.ts] || [];
      var signature = [message.revision, user(), expanded.has(message.ts)].concat(
        (own || []).map(function (reply) { return reply.ts + ":" + reply.revision; })).join("|");
      var element = elements.get(item.key);
      if (!element || element.dataset.signature !== signature) {
        var drawn = messageHtml(message, own, "channel");
        var fresh = document.createElement("div");
        fresh.className = drawn.classes;
        fresh.innerHTML = drawn.inner;
        fresh.dataset.ts = message.ts;
        fresh.dataset.user = message.user;
        fresh.dataset.signature = signature;
        if (message.thread_ts) fresh.dataset.threadTs = message.thread_ts;
        if (message.ephemeral) fresh.dataset.ephemeral = message.ephemeral;
        if (message.reply_broadcast) fresh.dataset.broadcast = "true";
        if (element) element.replaceWith(fresh);
        element = fresh;
        elements.set(item.key, element);
      }
      seen.add(item.key);
      var next = previous ? previous.nextSibling : list.firstChild;
      if (next !== element) list.insertBefore(element, next);
      previous = element;
    });
    elements.forEach(function (element, key) {
      if (!seen.has(key)) {
        element.remove();
        elements.delete(key);
      }
    });
    document.getElementById("empty-note").hidden = top.length > 0;
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        var response = await fetch("/emulator/view?channel=" + encodeURIComponent(channel()) + "&user=" + encodeURIComponent(user()));
        var data = await response.json();
        draw(data.messages);
        transport.textContent = data.socketConnections > 0
          ? "bot: Socket Mode (" + data.socketConnections + " connected)"
          : "bot: " + data.botUrl;
        if (list.dataset.stick !== "false") list.scrollTop = list.scrollHeight;
      } while (again);
    } catch (error) {
      live.textContent = "offline";
    } finally {
      busy = false;
    }
  }

  function follow() {
    if (source) source.close();
    source = new EventSource("/emulator/events?channel=" + encodeURIComponent(channel()));
    source.addEventListener("open", function () { live.textContent = "live"; live.dataset.state = "live"; refresh(); });
    source.addEventListener("change", function () { refresh(); });
    source.addEventListener("error", function () { live.textContent = "reconnecting"; live.dataset.state = "down"; });
  }

  function report(result, what) {
    var ok = result && result.ok;
    status.dataset.state = ok ? "ok" : "error";
    if (!result) { status.textContent = what + ": no answer from the emulator"; return; }
    if (result.error && result.ok === undefined) { status.textContent = what + ": " + result.error + (result.detail ? " (" + result.detail + ")" : ""); return; }
    var how = result.transport === "socket" ? "Socket Mode" : "HTTP " + (result.status === null ? "-" : result.status);
    status.textContent = what + ": " + (ok ? "acked" : "not acked (" + (result.error || "error") + ")") + ", " + how + ", " + Math.round(result.latencyMs) + " ms";
  }

  async function post(path, body) {
    var response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return response.json();
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (text.charAt(0) !== "/") text = "/harbor " + text;
    status.textContent = "sending " + text;
    status.dataset.state = "pending";
    try {
      var result = await post("/emulator/command", { channel: channel(), user: user(), text: text });
      report(result, text);
      if (result.ok) input.value = "";
    } catch (error) {
      report(null, text);
    }
  });

  list.addEventListener("click", async function (event) {
    var toggle = event.target.closest("[data-thread-toggle]");
    if (toggle) {
      var ts = toggle.getAttribute("data-thread-toggle");
      if (expanded.has(ts)) expanded.delete(ts); else expanded.add(ts);
      refresh();
      return;
    }
    var button = event.target.closest("button[data-action-id]");
    if (!button) return;
    var holder = button.closest("[data-ts]");
    button.disabled = true;
    try {
      var result = await post("/emulator/action", {
        channel: channel(), user: user(), message_ts: holder.getAttribute("data-ts"),
        action_id: button.getAttribute("data-action-id"), block_id: button.getAttribute("data-block-id"),
        value: button.hasAttribute("data-value") ? button.getAttribute("data-value") : undefined,
      });
      report(result, "click " + button.textContent);
    } catch (error) {
      report(null, "click " + button.textContent);
    } finally {
      button.disabled = false;
    }
  });

  list.addEventListener("scroll", function () {
    list.dataset.stick = String(list.scrollTop + list.clientHeight >= list.scrollHeight - 20);
  });
  channelInput.addEventListener("change", function () { elements.clear(); list.innerHTML = ""; remember(); follow(); });
  userSelect.addEventListener("change", function () { remember(); refresh(); });
  remember();
  follow();
})();
`;
