/* The chat panel's layout and how it shows messages, typing, handoff states and the rating form. */

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
    oninput: function () {
      // Grow with the text up to the CSS max-height, then scroll.
      this.style.height = "auto";
      this.style.height = this.scrollHeight + 2 + "px";
    },
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

Widget.prototype.messageBubble = function (sender, name, createdAt, testId, fillBody) {
  var body = el("div", { class: "body" });
  fillBody(body);
  var meta = el("div", { class: "meta" }, [el("span", { class: "name", text: name })]);
  if (createdAt) {
    // The service sends UTC; a time without a zone designator is read as UTC too, never as local time.
    var when = new Date(/T[\d:.]+$/.test(createdAt) ? createdAt + "Z" : createdAt);
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
  var group = el("div", { class: "quick-replies", role: "group", "aria-label": T.quick_replies });
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
