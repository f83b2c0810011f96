// A live warning on any console page when a complaint goes past a deadline (event "complaint_overdue").
//
// Registered as a page-wide script (staff.console.add_page_script) for staff who work complaints, so it is on
// every page they open, the workspace too; it is safe to load twice. When the page's own script holds the
// console's socket, Console.connect marks <html data-console-events="dispatch"> and re-dispatches each event
// as a DOM CustomEvent "console-event", which this script listens to; otherwise it connects itself, and only
// for staff the nav shows both the workspace (the socket's area) and the complaints to.
"use strict";

(() => {
  if (window.ComplaintOverdueAlerts || typeof Console === "undefined") return;
  const shown = new Set();

  function container() {
    let box = document.getElementById("complaint-overdue-alerts");
    if (!box) {
      box = Console.el("div", { id: "complaint-overdue-alerts", className: "page overdue-alerts" });
      const main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }

  function show(event) {
    const key = event.number + ":" + event.deadline;
    if (shown.has(key)) return;
    shown.add(key);
    const { el } = Console;
    const link = el("a", { href: String(event.url || ""), text: event.link_label || event.number });
    const dismiss = el("button", { type: "button", className: "secondary", text: event.dismiss_label || "×" });
    const banner = el("div", { className: "notice danger complaint-overdue", "data-number": event.number,
                               "data-deadline": event.deadline, "data-testid": "complaint-overdue-alert" },
                      el("strong", { text: event.message || event.number }), " ", link, " ", dismiss);
    banner.setAttribute("role", "alert");
    dismiss.addEventListener("click", () => banner.remove());
    container().appendChild(banner);
    Console.beep(2);
    Console.notify(event.message || event.number, event.category_label || "");
  }

  function onEvent(event) {
    // Only links to a ticket page are followed, whatever else an event might carry.
    if (event && event.type === "complaint_overdue" && typeof event.number === "string" &&
        String(event.url || "").startsWith("/console/complaints/")) {
      show(event);
    }
  }

  document.addEventListener("console-event", (dom) => onEvent(dom.detail));

  function start() {
    if (document.documentElement.dataset.consoleEvents === "dispatch") return;
    if (!document.getElementById("nav-workspace") || !document.getElementById("nav-complaints")) return;
    Console.connect(onEvent);
  }

  window.ComplaintOverdueAlerts = { show: onEvent };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else setTimeout(start, 0);
})();
