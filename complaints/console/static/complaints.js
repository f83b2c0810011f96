// The complaint pages: redraws every SLA clock from its data attributes, and reveals a contact number on demand.
"use strict";

(() => {
  const { t, api } = Console;
  const page = document.getElementById("complaints-page");
  if (!page) return;
  const RUNNING = ["on_track", "due_soon", "overdue"];
  // The server's clock, not the browser's, decides what is overdue.
  const offset = Date.parse(page.dataset.now) - Date.now();
  const dueSoon = Number(page.dataset.dueSoonSeconds || 600) * 1000;
  const tick = Math.max(1, Number(page.dataset.tickSeconds || 30)) * 1000;

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  // Says a length of time the way the server does (complaints/console/views.py span_words).
  function span(milliseconds) {
    let minutes = Math.floor(Math.abs(milliseconds) / 60000);
    if (minutes < 1) return t("span_moment");
    if (minutes < 60) return fill(t("span_minutes"), { m: minutes });
    let hours = Math.floor(minutes / 60);
    minutes %= 60;
    if (hours < 24) return fill(t("span_hours"), { h: hours, m: minutes });
    const days = Math.floor(hours / 24);
    hours %= 24;
    return fill(t("span_days"), { d: days, h: hours });
  }

  function redraw(clock, now) {
    if (!RUNNING.includes(clock.dataset.state)) return clock.dataset.state;
    const left = Date.parse(clock.dataset.due) - now;
    const state = left < 0 ? "overdue" : (left <= dueSoon ? "due_soon" : "on_track");
    clock.dataset.state = state;
    const badge = clock.querySelector(".badge");
    if (badge) { badge.className = "badge " + state; badge.textContent = t("clock_" + state); }
    const text = clock.querySelector(".clock-text");
    if (text) text.textContent = fill(t(left < 0 ? "clock_over" : "clock_left"), { span: span(left) });
    return state;
  }

  function redrawAll() {
    const now = Date.now() + offset;
    for (const clock of page.querySelectorAll(".sla-clock")) redraw(clock, now);
    // A row's urgency is its first deadline still running (the first response, then the plan).
    for (const row of page.querySelectorAll("tr[data-number]")) {
      const running = [...row.querySelectorAll(".sla-clock")].find((c) => RUNNING.includes(c.dataset.state));
      const state = running ? running.dataset.state : "none";
      row.classList.remove("overdue", "due_soon", "on_track", "none");
      row.classList.add(state);
    }
  }

  redrawAll();
  setInterval(redrawAll, tick);

  const reveal = document.getElementById("reveal-contact");
  if (reveal) {
    reveal.addEventListener("click", async () => {
      try {
        const answer = await api("POST", reveal.dataset.url);
        document.getElementById("contact-number").textContent = answer.mobile;
        reveal.hidden = true;
      } catch (err) {
        reveal.textContent = t("reveal_failed");
      }
    });
  }
})();
