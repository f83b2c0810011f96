/* Citizen chat widget of the service centre: one <script> tag, no dependencies.
 *
 * Embed:  <script src="https://host/widget.js" data-title="在线咨询" data-color="#1a5fb4"
 *                 data-greeting="..." data-context='{"service":"passport"}' defer></script>
 * or call window.GovChat.init({server, title, color, greeting, context}) with data-manual on the tag.
 *
 * Transport: one websocket per page to /ws/conversations/<id>. Every message carries a client id and
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
  var URL_IN_TEXT = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"'，。；！？、）」』】]+)/g;
  var LIST_LINE = /^\s*(?:([-•*·])|(\d{1,3})[.、)])\s+(.*)$/;
  var clock = new Intl.DateTimeFormat("zh-CN", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai"
  });

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function uuid() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // localStorage can be missing or full (private mode); the widget then keeps state for the page only.
  function makeStore(prefix) {
    var memory = {};
    return {
      get: function (key, fallback) {
        try {
          var raw = window.localStorage.getItem(prefix + key);
          return raw === null ? fallback : JSON.parse(raw);
        } catch (e) {
          return key in memory ? memory[key] : fallback;
        }
      },
      set: function (key, value) {
        memory[key] = value;
        try { window.localStorage.setItem(prefix + key, JSON.stringify(value)); } catch (e) { /* memory only */ }
      }
    };
  }

  function safeHttpUrl(raw, base) {
    try {
      var url = new URL(raw, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function onColour(hex) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h.split("").map(function (c) { return c + c; }).join("");
    var channels = [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    // White text when it reaches WCAG AA (4.5:1) on the colour, near-black otherwise.
    return 1.05 / (luminance + 0.05) >= 4.5 ? "#ffffff" : "#111111";
  }

  function Widget(options) {
    this.server = String(options.server).replace(/\/+$/, "");
    this.title = options.title || T.title;
    this.greeting = options.greeting || T.greeting;
    this.color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(options.color || "") ? options.color : "#1a5fb4";
    this.context = options.context && typeof options.context === "object" ? options.context : {};
    this.store = makeStore("govchat:" + new URL(this.server).host + ":");
    this.conversationId = this.store.get("conversation", null);
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

  Widget.prototype.build = function () {
    var self = this;
    this.host = el("div", { id: "govchat-root", "data-testid": "govchat-root" });
    this.host.style.setProperty("--gc-primary", this.color);
    this.host.style.setProperty("--gc-on-primary", onColour(this.color));
    var root = this.host.attachShadow({ mode: "open" });
    root.appendChild(el("style", { text: STYLES }));

    this.unreadBadge = el("span", { class: "unread", "data-testid": "govchat-unread", hidden: true, "aria-hidden": "true" });
    this.bubble = el("button", {
      type: "button", class: "bubble", "data-testid": "govchat-bubble", "aria-label": T.open,
      "aria-expanded": "false", "aria-controls": "govchat-panel", onclick: function () { self.toggle(); }
    }, [bubbleIcon(), el("span", { class: "bubble-text", text: this.title }), this.unreadBadge]);

    this.subtitle = el("p", { class: "subtitle", text: T.subtitle_bot });
    var header = el("header", { class: "header" }, [
      el("div", {}, [el("h2", { id: "govchat-title", class: "title", text: this.title }), this.subtitle]),
      el("button", {
        type: "button", class: "close", "aria-label": T.close, "data-testid": "govchat-close",
        onclick: function () { self.close(); }
      }, [el("span", { "aria-hidden": "true", text: "×" })])
    ]);
    this.status = el("div", { class: "status", role: "status", "data-testid": "govchat-status", hidden: true });
    this.handoff = el("div", { class: "handoff", "data-testid": "govchat-handoff", hidden: true });
    this.log = el("div", {
      class: "log", role: "log", "aria-live": "polite", "aria-label": T.log_label,
      "data-testid": "govchat-log", tabindex: "0"
    });
    this.log.appendChild(this.messageBubble("bot", T.bot_name, null, "govchat-greeting", function (body) {
      richText(body, self.greeting);
    }));
    this.typing = el("div", { class: "typing", "data-testid": "govchat-typing", hidden: true }, [
      el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
      el("span", { class: "typing-text" })
    ]);
    this.input = el("textarea", {
      class: "input", rows: "1", maxlength: String(MAX_CHARS), "aria-label": T.input_label,
      placeholder: T.input_placeholder, "data-testid": "govchat-input",
      onkeydown: function (event) {
        // Chinese IMEs confirm candidates with Enter; only a plain Enter outside composition sends.
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
          event.preventDefault();
          self.submit();
        }
      }
    });
    var form = el("form", {
      class: "composer", onsubmit: function (event) { event.preventDefault(); self.submit(); }
    }, [this.input, el("button", { type: "submit", class: "send", "data-testid": "govchat-send", text: T.send })]);

    this.panel = el("section", {
      id: "govchat-panel", class: "panel", role: "dialog", "aria-labelledby": "govchat-title",
      "data-testid": "govchat-panel", hidden: true,
      onkeydown: function (event) { if (event.key === "Escape") { event.stopPropagation(); self.close(); } }
    }, [header, this.status, this.handoff, this.log, this.typing, form]);

    root.appendChild(this.panel);
    root.appendChild(this.bubble);
    document.body.appendChild(this.host);

    window.addEventListener("online", function () { self.connectNow(); });
    window.addEventListener("offline", function () { self.showStatus(T.offline); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && self.conversationId) self.connectNow();
    });
    this.host.setAttribute("data-ready", "true");
    if (window.performance && performance.mark) performance.mark("govchat:ready");
  };

  function bubbleIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6h2v2H7zm4 0h2v2h-2zm4 0h2v2h-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // ---- opening and closing ------------------------------------------------------------------

  Widget.prototype.toggle = function () {
    if (this.panel.hidden) this.open(); else this.close();
  };

  Widget.prototype.open = function () {
    if (!this.conversationId) {
      this.conversationId = "web-" + uuid().replace(/-/g, "");
      this.store.set("conversation", this.conversationId);
    }
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
    return this.server.replace(/^http/, "ws") + "/ws/conversations/" + encodeURIComponent(this.conversationId);
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
    this.queue({ type: "message", text: text, display: text });
  };

  Widget.prototype.queue = function (item) {
    if (!this.conversationId) this.open();
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

  function markSent(bubble) {
    bubble.setAttribute("data-state", "sent");
    var state = bubble.querySelector(".state");
    if (state) state.remove();
  }

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

  // ---- rendering ----------------------------------------------------------------------------

  Widget.prototype.messageBubble = function (sender, name, createdAt, testId, fillBody) {
    var body = el("div", { class: "body" });
    fillBody(body);
    var meta = el("div", { class: "meta" }, [el("span", { class: "name", text: name })]);
    if (createdAt) {
      var when = new Date(createdAt);
      if (!isNaN(when.getTime())) meta.appendChild(el("time", { datetime: when.toISOString(), text: clock.format(when) }));
    }
    return el("div", { class: "msg " + sender, "data-sender": sender, "data-testid": testId }, [meta, body]);
  };

  Widget.prototype.renderMessage = function (message) {
    var self = this;
    if (message.sender === "system") {
      return el("div", { class: "note", "data-sender": "system", "data-testid": "govchat-message" },
        [el("span", { text: message.text || "" })]);
    }
    var name = message.sender === "citizen" ? T.you
      : message.sender === "agent" ? (message.sender_name || T.agent_name) : (message.sender_name || T.bot_name);
    return this.messageBubble(message.sender, name, message.created_at, "govchat-message", function (body) {
      var text = message.text || "";
      if (message.sender === "citizen" && text.charAt(0) === "/" && self.payloadTitles[text]) {
        text = self.payloadTitles[text];
      }
      if (text) richText(body, text);
      var image = message.image && safeHttpUrl(message.image, self.server);
      if (image) {
        body.appendChild(el("img", { class: "image", src: image, alt: T.image_alt, loading: "lazy", referrerpolicy: "no-referrer" }));
      }
      var custom = message.custom;
      if (custom && custom.type === "list" && Array.isArray(custom.items)) self.renderList(body, custom);
      if (Array.isArray(message.buttons) && message.buttons.length) self.renderButtons(body, message.buttons);
    });
  };

  Widget.prototype.renderButtons = function (body, buttons) {
    var self = this;
    var group = el("div", { class: "quick-replies", role: "group", "aria-label": T.title });
    buttons.forEach(function (button) {
      var title = String(button.title || button.payload || "");
      var payload = String(button.payload || button.title || "");
      if (!title) return;
      self.payloadTitles[payload] = title;
      group.appendChild(el("button", {
        type: "button", class: "quick-reply", "data-testid": "govchat-quick-reply", text: title,
        onclick: function () {
          group.setAttribute("data-used", "true");
          self.queue({ type: "message", text: payload, display: title });
          self.input.focus();
        }
      }));
    });
    body.appendChild(group);
  };

  Widget.prototype.renderList = function (body, custom) {
    var self = this;
    if (custom.title) body.appendChild(el("p", { class: "list-title", text: String(custom.title) }));
    var list = el("ul", { class: "options", "data-testid": "govchat-list" });
    custom.items.slice(0, 20).forEach(function (item) {
      if (!item || !item.title) return;
      var title = String(item.title);
      var content = item.payload
        ? el("button", {
          type: "button", class: "option", text: title, onclick: function () {
            self.payloadTitles[String(item.payload)] = title;
            self.queue({ type: "message", text: String(item.payload), display: title });
          }
        })
        : el("span", { text: title });
      var entry = el("li", {}, [content]);
      if (item.description) entry.appendChild(el("span", { class: "description", text: String(item.description) }));
      list.appendChild(entry);
    });
    body.appendChild(list);
  };

  // Plain text with clickable http(s) links, kept line breaks, and "- " / "1. " lines as lists.
  function richText(container, text) {
    var block = null;
    var list = null;
    String(text).split(/\r?\n/).forEach(function (line) {
      var item = LIST_LINE.exec(line);
      if (item) {
        var kind = item[1] ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = el(kind, { class: "text-list" });
          if (kind === "ol" && item[2] !== "1") list.setAttribute("start", item[2]);
          container.appendChild(list);
        }
        list.appendChild(inlineText(el("li"), item[3]));
        block = null;
        return;
      }
      list = null;
      if (!block) {
        block = el("p", { class: "text" });
        container.appendChild(block);
      } else {
        block.appendChild(document.createElement("br"));
      }
      inlineText(block, line);
    });
  }

  function inlineText(node, line) {
    var last = 0;
    line.replace(URL_IN_TEXT, function (match, label, labelledUrl, bareUrl, offset) {
      var raw = labelledUrl || bareUrl;
      var trailing = "";
      if (bareUrl) {
        var cut = /[.,;:!?)]+$/.exec(raw);
        if (cut) { trailing = cut[0]; raw = raw.slice(0, -trailing.length); }
      }
      var href = safeHttpUrl(raw);
      node.appendChild(document.createTextNode(line.slice(last, offset)));
      if (href) {
        node.appendChild(el("a", {
          href: href, target: "_blank", rel: "noopener noreferrer", title: T.link_hint, text: label || raw
        }));
      } else {
        node.appendChild(document.createTextNode(match.slice(0, match.length - trailing.length)));
      }
      if (trailing) node.appendChild(document.createTextNode(trailing));
      last = offset + match.length;
      return match;
    });
    node.appendChild(document.createTextNode(line.slice(last)));
    return node;
  }

  Widget.prototype.note = function (text, testId) {
    this.log.appendChild(el("div", { class: "note", "data-testid": testId || "govchat-note" }, [el("span", { text: text })]));
    this.scrollToEnd();
  };

  Widget.prototype.setTyping = function (on, by) {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    if (!on) return;
    this.typing.querySelector(".typing-text").textContent = by === "agent" ? T.typing_agent : T.typing_bot;
    var self = this;
    // A lost "off" event must not leave the indicator on forever.
    this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, 30000);
    this.scrollToEnd();
  };

  Widget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  // ---- handoff ------------------------------------------------------------------------------

  Widget.prototype.onHandoff = function (frame) {
    var name = frame.agent_name || T.agent_name;
    if (frame.state === "waiting") {
      this.showWaiting(frame.position, frame.estimated_wait_minutes);
    } else if (frame.state === "agent_joined") {
      this.hideWaiting();
      this.subtitle.textContent = fill(T.subtitle_agent, { name: name });
      this.note(fill(T.agent_joined, { name: name }), "govchat-agent-joined");
    } else if (frame.state === "agent_left") {
      this.hideWaiting();
      this.setTyping(false);
      this.subtitle.textContent = T.subtitle_bot;
      this.note(fill(T.agent_left, { name: name }), "govchat-agent-left");
    } else if (frame.state === "rating_requested") {
      this.showRating(frame.ticket_id);
    } else {
      this.hideWaiting();
    }
  };

  Widget.prototype.applyMode = function (mode) {
    if (mode === "waiting" && this.handoff.hidden) this.showWaiting(null, null);
    else if (mode === "agent") { this.hideWaiting(); this.subtitle.textContent = fill(T.subtitle_agent, { name: T.agent_name }); }
    else if (mode === "bot") { this.hideWaiting(); this.subtitle.textContent = T.subtitle_bot; }
  };

  Widget.prototype.showWaiting = function (position, minutes) {
    var self = this;
    var details = [];
    if (typeof position === "number") details.push(fill(T.waiting_position, { position: position }));
    if (typeof minutes === "number") details.push(fill(T.waiting_estimate, { minutes: Math.max(1, Math.round(minutes)) }));
    this.handoff.textContent = "";
    this.handoff.appendChild(el("div", { class: "handoff-text" }, [
      el("strong", { text: T.waiting }),
      el("span", { "data-testid": "govchat-queue-position", text: details.join("，") })
    ]));
    this.handoff.appendChild(el("button", {
      type: "button", class: "secondary", "data-testid": "govchat-stop-waiting", text: T.stop_waiting,
      onclick: function () {
        self.hideWaiting();
        self.queue({ type: "stop_waiting" });
      }
    }));
    this.handoff.hidden = false;
    this.host.setAttribute("data-handoff", "waiting");
  };

  Widget.prototype.hideWaiting = function () {
    this.handoff.hidden = true;
    this.handoff.textContent = "";
    this.host.removeAttribute("data-handoff");
  };

  Widget.prototype.showRating = function (ticketId) {
    var self = this;
    if (ticketId === undefined || ticketId === null) return;
    if (this.log.querySelector('[data-testid="govchat-rating"][data-ticket="' + String(ticketId).replace(/["\\]/g, "") + '"]')) return;
    var chosen = 0;
    var stars = el("div", { class: "stars", role: "radiogroup", "aria-label": T.rating_title });
    var inputs = [1, 2, 3, 4, 5].map(function (count) {
      var input = el("input", {
        type: "radio", name: "govchat-rating-" + ticketId, value: String(count), class: "star-input",
        id: "govchat-star-" + ticketId + "-" + count, "aria-label": fill(T.rating_star, { count: count }),
        onchange: function () {
          chosen = count;
          labels.forEach(function (label, i) { label.classList.toggle("on", i < count); });
        }
      });
      stars.appendChild(input);
      return input;
    });
    var labels = inputs.map(function (input, i) {
      var label = el("label", { for: input.id, class: "star", "aria-hidden": "true", text: "★", "data-testid": "govchat-star" });
      input.insertAdjacentElement("afterend", label);
      return label;
    });
    var comment = el("textarea", { class: "comment", rows: "2", maxlength: "500", "aria-label": T.rating_comment, placeholder: T.rating_comment });
    var hint = el("p", { class: "hint", role: "alert" });
    var card = el("form", {
      class: "rating", "data-testid": "govchat-rating", "data-ticket": String(ticketId),
      onsubmit: function (event) {
        event.preventDefault();
        if (!chosen) { hint.textContent = T.rating_choose; return; }
        hint.textContent = "";
        if (!self.sendFrame({ type: "rating", ticket_id: ticketId, rating: chosen, comment: comment.value.trim() })) {
          hint.textContent = T.error_generic;
        }
      }
    }, [el("fieldset", {}, [el("legend", { text: T.rating_title }), stars]), comment, hint,
      el("button", { type: "submit", class: "send", text: T.rating_submit })]);
    this.ratingCard = card;
    this.log.appendChild(card);
    this.scrollToEnd();
  };

  Widget.prototype.onRatingSaved = function (frame) {
    var card = this.log.querySelector('[data-testid="govchat-rating"][data-ticket="' + String(frame.ticket_id).replace(/["\\]/g, "") + '"]');
    if (card) card.replaceWith(el("div", { class: "note", "data-testid": "govchat-rating-thanks" }, [el("span", { text: T.rating_thanks })]));
  };

  Widget.prototype.ratingFailed = function () {
    var hint = this.ratingCard && this.ratingCard.querySelector(".hint");
    if (hint) hint.textContent = T.error_generic;
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
