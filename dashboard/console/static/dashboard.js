// The supervisor dashboard: fetches the figures, draws the charts (Chart.js) and their tables, stays live.
"use strict";

(() => {
  const { t, el, clear, api, connect } = Console;
  const $ = (id) => document.getElementById(id);
  const root = $("dashboard");
  const select = $("period-select");
  const status = $("dash-status");
  const charts = {};
  const COLORS = { blue: "#0b4f8a", amber: "#b45309", red: "#b42318", green: "#05603a", purple: "#5b21b6",
                   grey: "#52606d", sky: "#5b8fc7", teal: "#0f766e" };
  const REASON_COLORS = { urgent: COLORS.red, emotional: COLORS.amber, explicit: COLORS.blue, complex: COLORS.purple };
  // At most one fetch every few seconds, however many events arrive.
  const MIN_GAP_MS = 3000;
  let period = root.dataset.period === "week" ? "week" : "day";
  let lastFetch = 0;
  let pending = null;
  let inFlight = false;

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1f2933";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.legend.labels.boxHeight = 8;
  Chart.defaults.plugins.legend.labels.sort = (a, b) => a.datasetIndex - b.datasetIndex;

  function pct(share) { return share === null || share === undefined ? "—" : (share * 100).toFixed(1) + "%"; }
  function asPercent(share) { return share === null || share === undefined ? null : +(share * 100).toFixed(1); }
  function minutes(seconds) { return seconds === null || seconds === undefined ? null : +(seconds / 60).toFixed(1); }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return (+seconds.toFixed(1)) + t("seconds_unit");
    return (seconds / 60).toFixed(1) + t("minutes_unit");
  }

  function bucketLabels(data) {
    return data.period.buckets.map((b) => data.period.grain === "week" ? b.first_day.slice(5) + t("week_from") : b.first_day.slice(5));
  }

  function setKpi(id, value, note, warn) {
    const box = $("kpi-" + id);
    box.querySelector(".kpi-value").textContent = value;
    if (note !== undefined) box.querySelector(".kpi-note").textContent = note;
    box.classList.toggle("warn", !!warn);
  }

  function showHeadline(h) {
    const below = h.containment !== null && h.containment < h.containment_target;
    setKpi("containment", pct(h.containment), t("kpi_containment_note") + " · " + h.conversations + t("kpi_conversations_suffix"), below);
    setKpi("first_response", duration(h.first_response_seconds));
    setKpi("error_rate", pct(h.error_rate), h.faq_questions + t("kpi_questions_suffix"));
    setKpi("csat", h.csat_average === null ? "—" : h.csat_average.toFixed(2), h.csat_count + t("kpi_count_suffix"));
    setKpi("wait_p50", duration(h.wait_p50_seconds));
    setKpi("complaint_first", pct(h.first_response_compliance));
    setKpi("complaint_plan", pct(h.plan_compliance));
    setKpi("no_show", pct(h.no_show_rate));
  }

  function fillTable(id, table) {
    const node = $("table-" + id);
    if (!node) return;
    const head = node.querySelector("thead");
    const body = node.querySelector("tbody");
    clear(head); clear(body);
    head.appendChild(el("tr", {}, ...table.header.map((h) => el("th", { text: h, scope: "col" }))));
    if (!table.rows.length) {
      const cell = el("td", { text: t("no_data") });
      cell.colSpan = table.header.length;
      body.appendChild(el("tr", {}, cell));
      return;
    }
    for (const row of table.rows) {
      body.appendChild(el("tr", {}, ...row.map((value, i) => i === 0
        ? el("th", { text: value === null ? "" : String(value), scope: "row" })
        : el("td", { text: value === null ? "" : String(value) }))));
    }
  }

  // The canvas's name for screen readers: the title and the newest (or, for short tables, every) row.
  function summary(id, table) {
    const title = t("chart_" + id);
    if (!table.rows.length) return title + "：" + t("no_data");
    const rows = table.rows.length <= 5 ? table.rows : table.rows.slice(-1);
    const said = rows.map((row) => row[0] + "：" + row.slice(1).map((v, i) => table.header[i + 1] + " " + (v === null ? "—" : v)).join("，"));
    return title + "。" + said.join("；");
  }

  function draw(id, config, table) {
    const canvas = $("chart-" + id);
    if (!canvas) return;
    canvas.setAttribute("aria-label", summary(id, table));
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].options = config.options || {};
      charts[id].update("none");
    } else {
      charts[id] = new Chart(canvas, config);
    }
  }

  const percentAxis = { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                        ticks: { callback: (v) => v + "%" } };
  const countAxis = { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } };

  function bar(label, data, color, extra) {
    return Object.assign({ type: "bar", label, data, backgroundColor: color, borderColor: color, yAxisID: "y",
                           pointStyle: "rect", order: 2 }, extra || {});
  }
  function line(label, data, color, extra) {
    // Lines are drawn over the bars; a missing value (nothing to divide) leaves a gap rather than a made-up slope.
    return Object.assign({ type: "line", label, data, borderColor: color, backgroundColor: color, pointRadius: 4,
                           pointStyle: "circle", borderWidth: 2, tension: 0, spanGaps: false, order: 1 }, extra || {});
  }

  function drawAll(data) {
    const labels = bucketLabels(data);
    const tables = data.tables;
    const conv = data.conversations.series;
    draw("conversations", { type: "bar", data: { labels, datasets: [
      bar(t("series_contained"), conv.map((r) => r.contained), COLORS.blue, { stack: "c" }),
      bar(t("series_handed_over"), conv.map((r) => r.handed_over), COLORS.sky, { stack: "c" }),
      line(t("series_containment"), conv.map((r) => asPercent(r.containment)), COLORS.green, { yAxisID: "p" }),
      line(t("series_target"), conv.map(() => data.conversations.target * 100), COLORS.red,
           { yAxisID: "p", borderDash: [6, 4], pointRadius: 0, pointStyle: "line" }),
    ] }, options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, countAxis), p: percentAxis } } },
    tables.conversations);

    const faq = data.faq.series;
    draw("faq", { type: "bar", data: { labels, datasets: [
      bar(t("series_answered"), faq.map((r) => r.answered), COLORS.blue, { stack: "f" }),
      bar(t("series_clarified"), faq.map((r) => r.clarified), COLORS.amber, { stack: "f" }),
      bar(t("series_unknown"), faq.map((r) => r.unknown), COLORS.red, { stack: "f" }),
      line(t("series_error_rate"), faq.map((r) => asPercent(r.error_rate)), COLORS.purple, { yAxisID: "p" }),
    ] }, options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, countAxis), p: percentAxis } } },
    tables.faq);

    const hand = data.handoffs;
    draw("handoff_reasons", { type: "bar", data: { labels, datasets: hand.reasons.map((r) =>
      bar(r.label, hand.series.map((row) => row[r.reason]), REASON_COLORS[r.reason] || COLORS.grey, { stack: "r" })) },
    options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, countAxis) } } }, tables.handoff_reasons);

    draw("queue_wait", { type: "line", data: { labels, datasets: [
      line(t("series_wait_p50"), hand.series.map((r) => minutes(r.wait_p50_seconds)), COLORS.blue),
      line(t("series_wait_p95"), hand.series.map((r) => minutes(r.wait_p95_seconds)), COLORS.red),
    ] }, options: { scales: { y: { beginAtZero: true, title: { display: true, text: t("minutes_unit") } } } } },
    tables.queue_wait);

    draw("agent_handling", { type: "bar", data: { labels: hand.agents.map((a) => a.name), datasets: [
      bar(t("series_handling"), hand.agents.map((a) => minutes(a.average_seconds)), COLORS.teal),
    ] }, options: { indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: t("minutes_unit") } } } } },
    tables.agent_handling);

    const sat = data.satisfaction;
    draw("csat", { type: "bar", data: { labels: sat.distribution.map((d) => d.rating + "★"), datasets: [
      bar(t("series_count"), sat.distribution.map((d) => d.count), COLORS.amber),
    ] }, options: { plugins: { legend: { display: false } }, scales: { y: countAxis } } }, tables.csat);

    draw("csat_trend", { type: "line", data: { labels, datasets: [
      line(t("series_average"), sat.series.map((r) => r.average), COLORS.green),
    ] }, options: { scales: { y: { min: 1, max: 5 } } } }, tables.csat_trend);

    const comp = data.complaints;
    draw("complaint_compliance", { type: "line", data: { labels, datasets: [
      line(comp.rules.first_response + t("series_on_time"), comp.series.map((r) => asPercent(r.first_response.share)), COLORS.blue),
      line(comp.rules.plan + t("series_on_time"), comp.series.map((r) => asPercent(r.plan.share)), COLORS.purple),
    ] }, options: { scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } } } }, tables.complaint_compliance);

    for (const [id, key] of [["complaint_categories", "by_category"], ["complaint_windows", "by_window"]]) {
      draw(id, { type: "bar", data: { labels: comp[key].map((r) => r.label || t("no_window")), datasets: [
        bar(t("series_count"), comp[key].map((r) => r.count), COLORS.blue),
        bar(t("series_repeats"), comp[key].map((r) => r.repeats), COLORS.purple),
      ] }, options: { indexAxis: id === "complaint_categories" ? "y" : "x",
                      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } } },
      tables[id]);
    }

    const book = data.bookings;
    draw("bookings", { type: "bar", data: { labels, datasets: [
      bar(t("series_bookings"), book.series.map((r) => r.bookings), COLORS.blue),
      line(t("series_no_show_rate"), book.series.map((r) => asPercent(r.no_show_rate)), COLORS.red, { yAxisID: "p" }),
    ] }, options: { scales: { y: countAxis, p: percentAxis } } }, tables.bookings);

    draw("booking_windows", { type: "bar", data: { labels: book.windows.map((w) => w.window_id), datasets: [
      bar(t("series_bookings"), book.windows.map((w) => w.count), COLORS.teal),
    ] }, options: { indexAxis: "y", plugins: { legend: { display: false } },
                    scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } }, tables.booking_windows);

    for (const [id, table] of Object.entries(tables)) fillTable(id, table);
  }

  function setLinks() {
    for (const link of document.querySelectorAll("a.csv[data-chart]")) {
      link.href = "/api/dashboard/export/" + link.dataset.chart + ".csv?period=" + period;
    }
  }

  async function refresh() {
    if (inFlight) { schedule(); return; }
    inFlight = true;
    lastFetch = Date.now();
    try {
      const data = await api("GET", "/api/dashboard/figures?period=" + period);
      showHeadline(data.headline);
      drawAll(data);
      status.textContent = t("updated_at") + " " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
      root.dataset.loaded = period;
      root.dataset.fetches = String(Number(root.dataset.fetches || 0) + 1);
    } catch (err) {
      status.textContent = t("load_failed");
    } finally {
      inFlight = false;
    }
  }

  function schedule() {
    if (pending) return;
    const wait = Math.max(0, MIN_GAP_MS - (Date.now() - lastFetch));
    pending = setTimeout(() => { pending = null; refresh(); }, wait);
  }

  select.addEventListener("change", () => {
    period = select.value === "week" ? "week" : "day";
    root.dataset.period = period;
    const url = new URL(window.location.href);
    url.searchParams.set("period", period);
    window.history.replaceState(null, "", url.toString());
    setLinks();
    refresh();
  });
  $("refresh-btn").addEventListener("click", refresh);

  connect((event) => {
    if ((event.topic === "staff" && event.type === "figures_changed") || event.topic === "queue") schedule();
  });
  setLinks();
  refresh();
  // A slow safety net in case the socket is down for a while.
  setInterval(schedule, 60000);
})();
