// The supervisor's board: live queue, chats in progress, agents online, waiting times, ratings.
"use strict";

(() => {
  const { t, el, clear, api, duration, beep, connect } = Console;
  const $ = (id) => document.getElementById(id);

  function rows(node, items, cells) {
    clear(node);
    for (const item of items) node.appendChild(el("tr", {}, ...cells(item).map((c) => el("td", { text: c }))));
  }

  async function refresh() {
    let data;
    try { data = await api("GET", "/api/handoff/overview"); } catch (err) { return; }
    $("figure-queued").textContent = data.queued.length;
    $("figure-longest").textContent = Math.floor(data.longest_wait_seconds / 60);
    $("figure-agents").textContent = data.agents.length;
    $("figure-rating").textContent = data.ratings.average === null ? "-" : data.ratings.average;
    $("figure-rating-count").textContent = data.ratings.count;
    rows($("board-queue"), data.queued, (tk) => [String(tk.position), t("reason_" + tk.reason, tk.reason), tk.summary,
      duration(tk.waiting_seconds), String(tk.alert_count)]);
    rows($("board-active"), data.active, (tk) => [tk.agent_name || "", t("reason_" + tk.reason, tk.reason), tk.summary,
      duration((Date.now() - Date.parse(tk.claimed_at)) / 1000)]);
    rows($("board-agents"), data.agents, (a) => [a.display_name, a.role, a.active_chats + " / " + a.max_chats]);
    rows($("board-callbacks"), data.callbacks, (tk) => [t("reason_" + tk.reason, tk.reason), tk.summary,
      tk.contact_mobile || "-", (tk.left_messages || []).map((m) => m.text).join(" / ")]);
    rows($("board-ratings"), data.latest_ratings, (r) => ["#" + r.ticket_id, "★".repeat(r.rating), r.comment || "",
      new Date(r.created_at).toLocaleString("zh-CN")]);
  }

  connect((event) => {
    if (event.topic === "queue" && event.type === "ticket_alert" && event.reason === "urgent") beep(3);
    if (event.topic === "queue" || event.topic === "agent") refresh();
  }, refresh);
  refresh();
  setInterval(refresh, 15000);
})();
