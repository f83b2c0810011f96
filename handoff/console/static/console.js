// The agent's workspace: live queue, claim, chat with canned replies, context panel with internal notes,
// transfer with a note, return to bot, close, and alerts for urgent tickets.
"use strict";

(() => {
  const { t, el, clear, api, duration, beep, notify, enableAlerts, connect } = Console;
  const me = Number(document.getElementById("current-agent").dataset.agentId);
  const $ = (id) => document.getElementById(id);
  let current = null;       // the ticket shown in the chat panel
  let lastSeq = 0;
  // Attached before the reply box's own keys below, so Enter in the open list picks rather than sends.
  const canned = CannedPicker.attach({ box: $("reply-text"), list: $("canned-list"), select: $("canned-select"),
    status: $("canned-status") });

  function reasonLabel(reason) { return t("reason_" + reason, reason); }

  function ticketItem(ticket, extra) {
    const item = el("li", {
      className: "ticket reason-" + ticket.reason + (current && current.id === ticket.id ? " selected" : ""),
      "data-testid": "ticket-" + ticket.id, "data-ticket-id": ticket.id, "data-reason": ticket.reason,
    },
      el("span", { className: "badge", text: reasonLabel(ticket.reason) }),
      el("span", { className: "summary", text: ticket.summary }),
      el("span", { className: "meta", text: extra }));
    item.tabIndex = 0;
    item.addEventListener("click", () => openTicket(ticket.id));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") openTicket(ticket.id); });
    return item;
  }

  function fillList(node, tickets, emptyKey, extra) {
    clear(node);
    if (!tickets.length) node.appendChild(el("li", { className: "empty", text: t(emptyKey) }));
    for (const ticket of tickets) node.appendChild(ticketItem(ticket, extra(ticket)));
  }

  async function refreshQueue() {
    let data;
    try { data = await api("GET", "/api/handoff/queue"); } catch (err) { return; }
    fillList($("queue-list"), data.queued, "empty_queue",
      (tk) => "#" + tk.position + " · " + t("waited") + duration(tk.waiting_seconds));
    fillList($("my-chats"), data.mine, "empty_mine", (tk) => t("channel_" + tk.channel, tk.channel));
    fillList($("callback-list"), data.callbacks, "empty_callbacks", (tk) => (tk.contact_mobile || "") + " · " + tk.left_messages.length);
    $("queue-count").textContent = data.queued.length;
    $("mine-count").textContent = data.mine.length;
    $("callback-count").textContent = data.callbacks.length;
    $("online-count").textContent = t("agents_online") + " " + data.agents_online;
  }

  function messageItem(message) {
    const who = message.sender === "agent" && message.sender_name ? message.sender_name : t("sender_" + message.sender, message.sender);
    const item = el("li", { className: "msg from-" + message.sender, "data-seq": message.seq, "data-sender": message.sender },
      el("span", { className: "who", text: who }),
      el("span", { className: "text", text: message.text || "" }));
    if (message.buttons && message.buttons.length) {
      item.appendChild(el("span", { className: "buttons", text: message.buttons.map((b) => "[" + b.title + "]").join(" ") }));
    }
    return item;
  }

  function appendMessage(message) {
    if (message.seq <= lastSeq) return;
    lastSeq = message.seq;
    const list = $("transcript");
    list.appendChild(messageItem(message));
    list.scrollTop = list.scrollHeight;
  }

  function when(iso) {
    return new Date(iso).toLocaleString("zh-CN", { hour12: false });
  }

  function noteItem(note) {
    return el("li", { className: "note kind-" + note.kind, "data-note-id": note.id, "data-kind": note.kind },
      el("span", { className: "note-meta", text: t("note_kind_" + note.kind, note.kind) + " · " + note.author_name + " · " + when(note.created_at) }),
      el("span", { className: "note-text", text: note.text }));
  }

  function fillNotes(notes) {
    const list = $("context-notes");
    clear(list);
    if (!notes.length) list.appendChild(el("li", { className: "empty", text: t("no_notes") }));
    for (const note of notes) list.appendChild(noteItem(note));
  }

  function fillContext(ticket) {
    $("context-summary").textContent = ticket.summary;
    $("context-reason").textContent = reasonLabel(ticket.reason);
    const emotion = ticket.emotion;
    $("context-emotion").textContent = emotion ? t("emotion_" + emotion.label, emotion.label) + " " + Math.round(emotion.score * 100) + "%" : "-";
    $("context-channel").textContent = t("channel_" + ticket.channel, ticket.channel);
    $("context-contact").textContent = ticket.contact_mobile || "-";
    $("context-note").textContent = ticket.note || "-";
    const turns = $("context-turns");
    clear(turns);
    for (const turn of ticket.turns) {
      const emo = turn.emotion && typeof turn.emotion === "object" ? turn.emotion.label : turn.emotion;
      turns.appendChild(el("tr", {},
        el("td", { text: turn.text || "" }), el("td", { text: turn.intent || "-" }),
        el("td", { text: turn.confidence === null || turn.confidence === undefined ? "-" : turn.confidence.toFixed(2) }),
        el("td", { text: emo ? t("emotion_" + emo, emo) : "-" })));
    }
    const slots = $("context-slots");
    clear(slots);
    for (const [key, value] of Object.entries(ticket.slots || {})) {
      slots.appendChild(el("dt", { text: key }));
      slots.appendChild(el("dd", { text: typeof value === "string" ? value : JSON.stringify(value) }));
    }
    const left = $("context-left-messages");
    clear(left);
    for (const note of ticket.left_messages || []) left.appendChild(el("li", { text: note.text }));
    for (const key of ["appointments", "complaints"]) {
      const list = $("context-" + key);
      clear(list);
      const rows = (ticket.history && ticket.history[key]) || [];
      if (!rows.length) list.appendChild(el("li", { className: "empty", text: t("no_history") }));
      for (const row of rows) {
        list.appendChild(el("li", { text: Object.entries(row).filter(([, v]) => v !== null).map(([k, v]) => k + ": " + v).join(" · ") }));
      }
    }
  }

  function showState(data) {
    const ticket = data.ticket;
    const mine = ticket.status === "active" && data.is_mine;
    $("chat-title").textContent = reasonLabel(ticket.reason) + " · #" + ticket.id;
    $("chat-status").textContent = t("status_" + ticket.status, ticket.status) + (data.agent_name ? " · " + data.agent_name : "");
    $("chat-panel").dataset.status = ticket.status;
    $("claim-bar").hidden = !(ticket.status === "queued" || ticket.status === "callback");
    $("reply-form").hidden = !mine;
    $("owner-actions").hidden = !(mine || ticket.status === "callback");
    for (const id of ["transfer-btn", "transfer-select", "transfer-note", "return-btn"]) $(id).hidden = !mine;
    $("note-form").hidden = !data.may_note;
    if (!mine) canned.close();
  }

  async function openTicket(ticketId) {
    let data;
    try { data = await api("GET", "/api/handoff/tickets/" + ticketId); } catch (err) { showError(err); return; }
    current = data.ticket;
    lastSeq = 0;
    clear($("transcript"));
    for (const message of data.messages) appendMessage(message);
    fillContext(data.ticket);
    fillNotes(data.notes || []);
    showState(data);
    $("chat-panel").hidden = false;
    $("context-panel").hidden = false;
    $("chat-error").textContent = "";
    socket.send({ type: "watch", conversation_id: current.conversation_id });
    if (data.is_mine) { loadColleagues(); canned.load(); }
    refreshQueue();
  }

  function showError(err) {
    const key = { ticket_taken: "claim_conflict", capacity_full: "capacity_full" }[err.code];
    $("chat-error").textContent = key ? t(key) : (err.message || t("error_generic"));
  }

  async function act(method, path, body) {
    if (!current) return null;
    try {
      const data = await api(method, "/api/handoff/tickets/" + current.id + path, body);
      $("chat-error").textContent = "";
      return data;
    } catch (err) { showError(err); return null; }
  }

  async function loadColleagues() {
    const select = $("transfer-select");
    clear(select);
    select.appendChild(el("option", { value: "", text: t("transfer_placeholder") }));
    try {
      const data = await api("GET", "/api/handoff/agents");
      const others = data.agents.filter((a) => a.id !== me);
      if (!others.length) select.appendChild(el("option", { value: "", text: t("no_colleague") }));
      for (const a of others) select.appendChild(el("option", { value: a.id, text: a.display_name + " (" + a.active_chats + "/" + a.max_chats + ")" }));
    } catch (err) { /* the list stays empty */ }
  }

  function showNotice(text) {
    const notice = $("workspace-notice");
    notice.hidden = false;
    notice.textContent = text;
  }

  function showUrgent(event) {
    const alert = $("urgent-alert");
    alert.dataset.ticketId = String(event.ticket_id);
    alert.hidden = false;
    // Filled after it is shown, so screen readers announce the alert.
    $("urgent-alert-text").textContent = t("urgent_alert") + " #" + event.ticket_id;
    // An urgent case is announced even while the console is in view: the agent may be in another window.
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const shown = new Notification(t("urgent_notification_title"), {
          body: t("urgent_alert"), tag: "handoff-urgent-" + event.ticket_id, requireInteraction: true });
        shown.onclick = () => { window.focus(); openTicket(event.ticket_id); shown.close(); };
      } catch (err) { /* some browsers allow notifications only from service workers; the page alert stays */ }
    }
  }

  function onEvent(event) {
    if (event.topic === "queue") {
      if (event.type === "ticket_alert") {
        const urgent = event.reason === "urgent" && !event.realert;
        beep(event.reason === "urgent" ? 3 : (event.realert ? 2 : 1));
        if (urgent) showUrgent(event);
        else notify(event.realert ? t("realert") : t("new_ticket_alert"), reasonLabel(event.reason));
        document.body.dataset.lastAlert = String(event.ticket_id);
      }
      refreshQueue();
      if (current && event.ticket_id === current.id) openTicket(current.id);
    } else if (event.topic === "agent") {
      if (event.type === "ticket_transferred") {
        const words = t("transferred_to_you").replace("{agent}", event.from_agent || "");
        beep(2);
        notify(t("new_ticket_alert"), words + (event.note ? "：" + event.note : ""));
        showNotice(words + (event.note ? "：" + event.note : ""));
      }
      if (current && event.ticket_id === current.id) openTicket(current.id);
      refreshQueue();
    } else if (event.topic === "conversation" && current) {
      if (event.type === "message") appendMessage(event.message);
    }
  }

  const socket = connect(onEvent, () => { if (current) socket.send({ type: "watch", conversation_id: current.conversation_id }); refreshQueue(); });

  $("enable-alerts").addEventListener("click", enableAlerts);
  $("claim-btn").addEventListener("click", async () => { if (await act("POST", "/claim")) openTicket(current.id); });
  $("reply-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = $("reply-text");
    const text = box.value.trim();
    if (!text) return;
    if (await act("POST", "/messages", { text })) box.value = "";
  });
  $("reply-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("reply-form").requestSubmit();
  });
  $("transfer-btn").addEventListener("click", async () => {
    const target = Number($("transfer-select").value);
    const note = $("transfer-note").value.trim() || null;
    if (target && await act("POST", "/transfer", { agent_id: target, note })) {
      $("transfer-note").value = "";
      openTicket(current.id);
    }
  });
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = $("note-text");
    const text = box.value.trim();
    if (!text) return;
    const note = await act("POST", "/notes", { text });
    if (note) {
      box.value = "";
      const list = $("context-notes");
      const empty = list.querySelector(".empty");
      if (empty) empty.remove();
      list.appendChild(noteItem(note));
    }
  });
  $("urgent-alert-open").addEventListener("click", () => {
    const ticketId = Number($("urgent-alert").dataset.ticketId);
    $("urgent-alert").hidden = true;
    if (ticketId) openTicket(ticketId);
  });
  $("urgent-alert-dismiss").addEventListener("click", () => { $("urgent-alert").hidden = true; });
  $("return-btn").addEventListener("click", async () => {
    if (await act("POST", "/close", { disposition: "returned_to_bot", note: $("close-note").value || null })) openTicket(current.id);
  });
  $("close-btn").addEventListener("click", async () => {
    if (await act("POST", "/close", { disposition: $("close-disposition").value, note: $("close-note").value || null })) {
      $("close-note").value = "";
      openTicket(current.id);
    }
  });

  canned.load();
  refreshQueue();
  setInterval(refreshQueue, 30000);
})();
