/* Citizen chat widget of the service centre: one <script> tag, no dependencies.
 *
 * Embed:  <script src="https://host/widget.js" data-title="在线咨询" data-color="#1a5fb4"
 *                 data-greeting="..." data-context='{"service":"passport"}' defer></script>
 * or call window.GovChat.init({server, title, color, greeting, context}) with data-manual on the tag.
 *
 * Transport: one websocket per page. The first one, to /ws/conversations, gets a new conversation's id and
 * access token from the server; both are kept in localStorage and every later socket opens
 * /ws/conversations/<id>?token=<token>, so only this browser reads its chat. Every message carries a client id and
 * stays in a localStorage outbox until the server acknowledges it, so messages typed offline are sent
 * after reconnecting, in order, and a re-send is recognised by the server instead of processed twice.
 * Server text is only ever inserted with textContent / text nodes.
 */
(function () {
  "use strict";
  if (window.GovChat && window.GovChat.loaded) return;

  var T = __GOVCHAT_TEXTS__;
  var STYLES = __GOVCHAT_STYLES__;
  var SCRIPT = document.currentScript;
  var MAX_CHARS = 1000;
  var MAX_OUTBOX = 50;
  var PERMANENT_ERRORS = ["empty_text", "text_too_long", "invalid_text", "invalid_metadata",
    "metadata_too_large", "invalid_client_id", "frame_too_large"];
  /* __GOVCHAT_PARTS__ */

  function Widget(options) {
    this.server = String(options.server).replace(/\/+$/, "");
    this.title = options.title || T.title;
    this.greeting = options.greeting || T.greeting;
    this.color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(options.color || "") ? options.color : "#1a5fb4";
    this.context = options.context && typeof options.context === "object" ? options.context : {};
    this.store = makeStore("govchat:" + new URL(this.server).host + ":");
    this.conversationId = this.store.get("conversation", null);
    this.accessToken = this.store.get("token", null);
    // A conversation without its token (kept by an older widget) cannot be reopened: start a new one.
    if (!this.accessToken) this.forgetConversation();
    this.sentOn = {};            // client id -> the socket it was last sent on
    this.rendered = {};          // seq -> element
    this.lastSeq = 0;
    this.payloadTitles = {};     // quick-reply payload -> title, to show titles instead of payloads
    this.socket = null;
    this.attempts = 0;
    this.reconnectTimer = null;
    this.synced = false;
    this.unread = 0;
    this.build();
    this.readOutbox().forEach(function (item) { if (item.type === "message") this.renderPending(item); }, this);
    if (this.conversationId) this.connect();
  }

  // ---- opening and closing ------------------------------------------------------------------

  Widget.prototype.toggle = function () {
    if (this.panel.hidden) this.open(); else this.close();
  };

  Widget.prototype.open = function () {
    this.panel.hidden = false;
    this.host.setAttribute("data-open", "true");
    this.bubble.setAttribute("aria-expanded", "true");
    this.bubble.setAttribute("aria-label", T.close);
    this.setUnread(0);
    this.connect();
    this.scrollToEnd();
    this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.host.removeAttribute("data-open");
    this.bubble.setAttribute("aria-expanded", "false");
    this.setUnread(this.unread);
    this.bubble.focus();
  };

  Widget.prototype.setUnread = function (count) {
    this.unread = count;
    this.unreadBadge.hidden = count === 0;
    this.unreadBadge.textContent = count > 99 ? "99+" : String(count);
    this.bubble.setAttribute("aria-label", this.panel.hidden
      ? (count ? fill(T.open_unread, { count: count }) : T.open) : T.close);
  };

  // ---- connection ---------------------------------------------------------------------------

  Widget.prototype.socketUrl = function () {
    var base = this.server.replace(/^http/, "ws") + "/ws/conversations";
    if (!this.conversationId) return base;
    return base + "/" + encodeURIComponent(this.conversationId) + "?token=" + encodeURIComponent(this.accessToken);
  };

  Widget.prototype.adoptConversation = function (frame) {
    if (typeof frame.conversation_id !== "string" || typeof frame.access_token !== "string") return;
    this.conversationId = frame.conversation_id;
    this.accessToken = frame.access_token;
    this.store.set("conversation", this.conversationId);
    this.store.set("token", this.accessToken);
  };

  Widget.prototype.forgetConversation = function () {
    this.conversationId = null;
    this.accessToken = null;
    this.store.set("conversation", null);
    this.store.set("token", null);
  };

  Widget.prototype.connect = function () {
    var self = this;
    if (this.socket || this.reconnectTimer) return;
    var socket;
    try {
      socket = new WebSocket(this.socketUrl());
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    if (this.attempts === 0) this.showStatus(T.connecting);
    socket.onopen = function () {
      self.attempts = 0;
      clearInterval(self.keepAlive);
      // Proxies close idle sockets; a ping every 25 s keeps an open chat connected.
      self.keepAlive = setInterval(function () { self.sendFrame({ type: "ping" }); }, 25000);
      self.showStatus(null);
      self.sendFrame({ type: "sync", after: self.lastSeq });
      self.flushOutbox();
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === "object") self.handleFrame(frame);
    };
    socket.onclose = function () {
      if (self.socket !== socket) return;
      self.socket = null;
      clearInterval(self.keepAlive);
      self.setTyping(false);
      self.scheduleReconnect();
    };
  };

  Widget.prototype.connectNow = function () {
    if (this.socket) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  };

  Widget.prototype.scheduleReconnect = function () {
    var self = this;
    this.attempts += 1;
    // Exponential back-off with jitter so a restarted server is not hit by every page at once.
    var ceiling = Math.min(30000, 500 * Math.pow(2, this.attempts));
    var delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    if (this.attempts >= 3) this.showStatus(T.unreachable, true);
    else this.showStatus(fill(T.reconnecting, { seconds: Math.max(1, Math.round(delay / 1000)) }));
    this.reconnectTimer = setTimeout(function () {
      self.reconnectTimer = null;
      self.connect();
    }, delay);
  };

  Widget.prototype.showStatus = function (message, alert) {
    this.status.hidden = !message;
    this.status.textContent = message || "";
    this.status.className = alert ? "status alert" : "status";
    this.host.setAttribute("data-connection", message ? (alert ? "unreachable" : "connecting") : "open");
  };

  Widget.prototype.sendFrame = function (frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  };

  // ---- sending ------------------------------------------------------------------------------

  Widget.prototype.metadata = function () {
    var metadata = {};
    Object.keys(this.context).forEach(function (key) { metadata[key] = this.context[key]; }, this);
    metadata.page = location.pathname;
    return metadata;
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      this.note(T.error_text_too_long);
      return;
    }
    this.input.value = "";
    this.input.style.height = "";
    this.queue({ type: "message", text: text, display: text });
  };

  Widget.prototype.queue = function (item) {
    if (this.panel.hidden) this.open();
    item.client_id = uuid();
    item.at = new Date().toISOString();
    this.writeOutbox(this.readOutbox().concat([item]).slice(-MAX_OUTBOX));
    if (item.type === "message") this.renderPending(item);
    this.flushOutbox();
    this.connect();
  };

  Widget.prototype.flushOutbox = function () {
    var socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    this.readOutbox().forEach(function (item) {
      if (this.sentOn[item.client_id] === socket) return;
      var frame = { type: item.type, client_id: item.client_id };
      if (item.type === "message") {
        frame.text = item.text;
        frame.metadata = this.metadata();
      }
      this.sentOn[item.client_id] = socket;
      this.sendFrame(frame);
      var bubble = this.pendingBubble(item.client_id);
      if (bubble) bubble.setAttribute("data-state", "sending");
    }, this);
  };

  // Other tabs of the same site share the outbox: always read it fresh, change it, write it back.
  Widget.prototype.readOutbox = function () {
    var items = this.store.get("outbox", []);
    return Array.isArray(items) ? items.filter(function (item) { return item && item.client_id; }) : [];
  };

  Widget.prototype.writeOutbox = function (items) {
    this.store.set("outbox", items);
  };

  Widget.prototype.dropFromOutbox = function (clientId) {
    delete this.sentOn[clientId];
    this.writeOutbox(this.readOutbox().filter(function (item) { return item.client_id !== clientId; }));
  };

  Widget.prototype.pendingBubble = function (clientId) {
    return this.log.querySelector('[data-client-id="' + clientId + '"]');
  };

  Widget.prototype.renderPending = function (item) {
    var bubble = this.messageBubble("citizen", T.you, item.at, "govchat-message", function (body) {
      richText(body, item.display || item.text);
    });
    bubble.setAttribute("data-client-id", item.client_id);
    bubble.setAttribute("data-send-text", item.text);
    bubble.setAttribute("data-state", "queued");
    bubble.querySelector(".meta").appendChild(el("span", { class: "state", text: T.queued }));
    this.log.appendChild(bubble);
    this.scrollToEnd();
  };

  // ---- frames from the server ---------------------------------------------------------------

  Widget.prototype.handleFrame = function (frame) {
    switch (frame.type) {
      case "session": return this.adoptConversation(frame);
      case "message": return this.onMessage(frame.message, true);
      case "sync": return this.onSync(frame);
      case "ack": return this.onAck(frame);
      case "error": return this.onError(frame);
      case "typing": return this.setTyping(!!frame.on, frame.by);
      case "handoff": return this.onHandoff(frame);
      case "rating_saved": return this.onRatingSaved(frame);
      default: return undefined;
    }
  };

  Widget.prototype.onSync = function (frame) {
    var self = this;
    (frame.messages || []).forEach(function (message) { self.onMessage(message, false); });
    if (frame.more) this.sendFrame({ type: "sync", after: this.lastSeq });
    this.applyMode(frame.mode);
    // A reconnecting widget learns its place in the queue without waiting for the queue to move.
    if (frame.state && frame.state.type === "handoff") this.onHandoff(frame.state);
    this.synced = true;
  };

  Widget.prototype.onMessage = function (message, live) {
    if (!message || typeof message.seq !== "number" || this.rendered[message.seq]) return;
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    var bubble = message.sender === "citizen" ? this.adoptPending(message) : null;
    if (!bubble) bubble = this.renderMessage(message);
    this.rendered[message.seq] = bubble;
    bubble.setAttribute("data-seq", String(message.seq));
    this.placeBySeq(bubble, message.seq);
    if (message.sender !== "citizen") this.setTyping(false);
    if (live && this.synced && this.panel.hidden && message.sender !== "citizen") this.setUnread(this.unread + 1);
    this.scrollToEnd();
  };

  // The server echoes a citizen message before acknowledging it; the bubble already on screen takes its seq.
  Widget.prototype.adoptPending = function (message) {
    var candidates = this.log.querySelectorAll("[data-client-id]:not([data-seq])");
    for (var i = 0; i < candidates.length; i += 1) {
      if (candidates[i].getAttribute("data-send-text") === (message.text || "").trim()) {
        markSent(candidates[i]);
        return candidates[i];
      }
    }
    return null;
  };

  Widget.prototype.placeBySeq = function (bubble, seq) {
    var children = this.log.children;
    for (var i = 0; i < children.length; i += 1) {
      var other = children[i];
      if (other === bubble) continue;
      var otherSeq = other.getAttribute("data-seq");
      if ((otherSeq && Number(otherSeq) > seq) || (!otherSeq && other.hasAttribute("data-client-id"))) {
        if (bubble.nextSibling !== other) this.log.insertBefore(bubble, other);
        return;
      }
    }
    if (bubble.parentNode !== this.log || bubble !== this.log.lastElementChild) this.log.appendChild(bubble);
  };

  Widget.prototype.onAck = function (frame) {
    this.dropFromOutbox(frame.client_id);
    var bubble = this.pendingBubble(frame.client_id);
    if (!bubble || bubble.hasAttribute("data-seq")) return;
    if (typeof frame.seq === "number" && this.rendered[frame.seq]) {
      bubble.remove();
      return;
    }
    markSent(bubble);
    if (typeof frame.seq === "number") {
      this.rendered[frame.seq] = bubble;
      bubble.setAttribute("data-seq", String(frame.seq));
      this.lastSeq = Math.max(this.lastSeq, frame.seq);
      this.placeBySeq(bubble, frame.seq);
    }
  };

  Widget.prototype.onError = function (frame) {
    var messages = { text_too_long: T.error_text_too_long, rate_limited: T.error_rate_limited };
    if (frame.frame_type === "rating") {
      this.ratingFailed();
      return;
    }
    if (frame.code === "conversation_not_found") {
      // The server no longer knows this chat (or the token is stale): the reconnect starts a new one.
      this.forgetConversation();
      this.lastSeq = 0;
      return;
    }
    if (!frame.client_id) {
      this.note(messages[frame.code] || T.error_generic);
      return;
    }
    var bubble = this.pendingBubble(frame.client_id);
    var item = this.readOutbox().filter(function (i) { return i.client_id === frame.client_id; })[0];
    this.dropFromOutbox(frame.client_id);
    if (!bubble) return;
    bubble.setAttribute("data-state", "failed");
    var meta = bubble.querySelector(".meta");
    var state = bubble.querySelector(".state") || meta.appendChild(el("span", { class: "state" }));
    state.textContent = messages[frame.code] || T.failed;
    if (item && PERMANENT_ERRORS.indexOf(frame.code) === -1) {
      var self = this;
      meta.appendChild(el("button", {
        type: "button", class: "link", text: T.retry, onclick: function () {
          this.remove();
          bubble.setAttribute("data-state", "queued");
          state.textContent = T.queued;
          self.writeOutbox(self.readOutbox().concat([item]));
          self.flushOutbox();
          self.connect();
        }
      }));
    }
  };

  // ---- start-up -----------------------------------------------------------------------------

  var instance = null;

  function readScriptOptions() {
    var data = SCRIPT ? SCRIPT.dataset : {};
    var context = {};
    if (data.context) {
      try { context = JSON.parse(data.context); } catch (e) { context = {}; }
    }
    var scriptOrigin = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;
    return { server: data.server || scriptOrigin, title: data.title, color: data.color, greeting: data.greeting, context: context };
  }

  function init(options) {
    if (instance) return instance;
    var merged = readScriptOptions();
    Object.keys(options || {}).forEach(function (key) { if (options[key] !== undefined) merged[key] = options[key]; });
    var start = function () { instance = instance || new Widget(merged); };
    if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
    return instance;
  }

  window.GovChat = {
    loaded: true,
    init: init,
    open: function () { if (instance) instance.open(); },
    close: function () { if (instance) instance.close(); },
    setContext: function (context) {
      if (instance && context && typeof context === "object") {
        Object.keys(context).forEach(function (key) { instance.context[key] = context[key]; });
      }
    }
  };

  if (!SCRIPT || !SCRIPT.hasAttribute("data-manual")) init({});
})();
