// The knowledge base console: search, unanswered questions, live preview, publishing, history, retraining.
// Text from the knowledge base or from citizens only ever reaches the DOM through textContent.
"use strict";

(() => {
  const { t, el, clear, api } = Console;
  const $ = (id) => document.getElementById(id);
  const root = document.querySelector("[data-page]");
  if (!root) return;
  const page = root.dataset.page;
  const BASE = "/api/knowledge";
  const FLASH = "kb-flash";

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (match, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match);
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
  }

  function lines(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean);
  }

  function editorHref(target) {
    const [kind, id] = String(target).split(":");
    return "/console/knowledge/" + (kind === "service" ? "services/" : "entries/") + encodeURIComponent(id || "");
  }

  // --- the retraining job -------------------------------------------------------------------------
  let trainingTimer = null;

  async function refreshTraining() {
    const state = $("training-state");
    if (!state) return;
    let data;
    try { data = await api("GET", BASE + "/training"); } catch (err) { return; }
    state.textContent = data.needs_retraining ? t("training_stale") : t("training_fresh");
    state.className = "notice" + (data.needs_retraining ? " warning" : "");
    state.dataset.stale = data.needs_retraining ? "true" : "false";
    const job = data.job;
    const status = $("training-status");
    status.textContent = t("training_status_" + job.status, job.status) + (job.timed_out ? t("training_timed_out") : "");
    status.dataset.status = job.status;
    const facts = [];
    if (job.started_by) facts.push(fill(t("training_started_by"), { name: job.started_by }));
    if (job.started_at) facts.push(fill(t("training_started_at"), { time: when(job.started_at) }));
    if (job.finished_at) facts.push(fill(t("training_finished_at"), { time: when(job.finished_at) }));
    if (job.exit_code !== null && job.exit_code !== undefined) facts.push(fill(t("training_exit_code"), { code: job.exit_code }));
    $("training-times").textContent = facts.join(" · ");
    $("training-log").textContent = job.log_tail.length ? job.log_tail.join("\n") : t("training_log_empty");
    $("retrain-btn").disabled = job.status === "running";
    clearTimeout(trainingTimer);
    trainingTimer = setTimeout(refreshTraining, job.status === "running" ? 2000 : 15000);
  }

  function setupTraining() {
    const button = $("retrain-btn");
    if (!button) return;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("POST", BASE + "/training");
        $("training-message").textContent = t("training_started");
      } catch (err) {
        $("training-message").textContent = err.status === 409 ? t("training_running_already") : t("error_generic");
      }
      refreshTraining();
    });
    refreshTraining();
  }

  // --- the overview: search, unanswered questions, recent changes ----------------------------------
  function setupSearch() {
    const input = $("kb-search");
    const rows = Array.from(document.querySelectorAll("tr[data-search]"));
    input.addEventListener("input", () => {
      const query = input.value.trim().toLowerCase();
      let shown = 0;
      for (const row of rows) {
        const hit = !query || row.dataset.search.toLowerCase().includes(query);
        row.hidden = !hit;
        if (hit) shown += 1;
      }
      for (const topic of document.querySelectorAll("[data-topic]")) {
        topic.hidden = !topic.querySelector("tr[data-search]:not([hidden])");
      }
      $("kb-search-count").textContent = query ? fill(t("kb_search_count"), { count: shown }) : "";
    });
  }

  function entrySelect(id, question, choices) {
    const select = el("select", { id, "data-testid": id });
    select.appendChild(el("option", { value: "", text: t("choose_entry") }));
    if (question.suggestions.length) {
      const group = el("optgroup", { label: t("suggested_entries") });
      for (const s of question.suggestions) group.appendChild(el("option", { value: s.entry_id, text: s.title }));
      select.appendChild(group);
    }
    for (const topic of choices) {
      const group = el("optgroup", { label: topic.topic });
      for (const entry of topic.entries) group.appendChild(el("option", { value: entry.id, text: entry.title }));
      select.appendChild(group);
    }
    if (question.suggestions.length) select.value = question.suggestions[0].entry_id;
    return select;
  }

  // Why adding a question was refused: the preview of the entry with it added lists the same problems.
  async function variantProblems(entryId, question) {
    try {
      const url = BASE + "/entries/" + encodeURIComponent(entryId);
      const form = await api("GET", url);
      const preview = await api("POST", url + "/preview", { questions: form.questions.concat([question]) });
      return preview.problems.map((p) => p.message);
    } catch (err) { return []; }
  }

  async function refreshOpen() {
    const list = $("open-questions");
    const choices = JSON.parse(($("kb-entry-choices") || {}).textContent || "[]");
    let items;
    try { items = await api("GET", BASE + "/open-questions"); } catch (err) { return; }
    clear(list);
    if (!items.length) {
      list.appendChild(el("li", { className: "muted", text: t("kb_open_empty") }));
      return;
    }
    items.forEach((question, index) => {
      const selectId = "open-entry-" + index;
      const select = entrySelect(selectId, question, choices);
      const button = el("button", { type: "button", text: t("add_variant"), "data-testid": "add-variant-" + index });
      const counts = t("col_unanswered") + " " + question.unanswered + " · " + t("col_clarified") + " " + question.clarified +
        (question.last_asked ? " · " + when(question.last_asked) : "");
      const item = el("li", { "data-testid": "open-question" },
        el("p", { className: "kb-question", text: question.question }),
        el("p", { className: "muted", text: counts }),
        el("label", { htmlFor: selectId, text: fill(t("add_variant_label"), { question: question.question }) }),
        el("div", { className: "kb-row" }, select, button));
      button.addEventListener("click", async () => {
        const message = $("open-message");
        if (!select.value) {
          message.textContent = t("choose_entry_first");
          select.focus();
          return;
        }
        button.disabled = true;
        const title = select.selectedOptions[0].textContent;
        try {
          await api("POST", BASE + "/entries/" + encodeURIComponent(select.value) + "/questions", { question: question.question });
          message.textContent = fill(t("variant_added"), { question: question.question, title });
          item.remove();
          if (!list.children.length) list.appendChild(el("li", { className: "muted", text: t("kb_open_empty") }));
          refreshTraining();
          refreshRecent();
        } catch (err) {
          button.disabled = false;
          const reasons = err.status === 422 ? await variantProblems(select.value, question.question) : [];
          message.textContent = (err.status === 422 ? t("publish_refused") : t("error_generic")) + " " + reasons.join(" ");
        }
      });
      list.appendChild(item);
    });
  }

  async function refreshRecent() {
    const list = $("recent-revisions");
    if (!list) return;
    let items;
    try { items = await api("GET", BASE + "/revisions?limit=10"); } catch (err) { return; }
    clear(list);
    if (!items.length) {
      list.appendChild(el("li", { className: "muted", text: t("kb_recent_empty") }));
      return;
    }
    for (const r of items) {
      list.appendChild(el("li", {},
        el("a", { href: editorHref(r.target), text: fill(t("revision_prefix"), { id: r.id }) + " " + r.summary }),
        el("span", { className: "muted", text: " · " + r.author + " · " + when(r.created_at) })));
    }
  }

  // --- the editors: live preview, problems, publishing, history ----------------------------------
  const editedId = root.dataset.entryId || root.dataset.serviceId;
  const url = BASE + (page === "service" ? "/services/" : "/entries/") + encodeURIComponent(editedId || "");
  let previewTimer = null;
  let previewSeq = 0;

  function collect() {
    const body = {};
    for (const node of root.querySelectorAll("[data-field]")) {
      body[node.dataset.field] = node.dataset.list ? lines(node.value) : node.value;
    }
    const details = root.querySelectorAll("[data-detail]");
    if (details.length) {
      body.details = {};
      for (const node of details) body.details[node.dataset.detail] = node.value;
    }
    return body;
  }

  function fieldNode(field) {
    if (!field) return null;
    return field.startsWith("details.") ? $("detail-" + field.slice(8)) : $("field-" + field);
  }

  function showProblems(problems, refused) {
    for (const node of root.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const box = $("problems");
    const list = $("problem-list");
    clear(list);
    $("problems-intro").textContent = refused ? t("publish_refused") : "";
    box.hidden = !problems.length;
    for (const problem of problems) {
      list.appendChild(el("li", { text: problem.message }));
      const error = problem.field ? $("err-" + problem.field.replace(".", "-")) : null;
      if (error) error.textContent = (error.textContent ? error.textContent + " " : "") + problem.message;
      const node = fieldNode(problem.field);
      if (node) node.setAttribute("aria-invalid", "true");
    }
  }

  function answerBlock(answer) {
    const block = el("article", { className: "kb-answer", "data-testid": "preview-answer" });
    if (page === "service") block.appendChild(el("h3", { text: answer.title }));
    if (answer.text === null || answer.text === undefined) {
      block.appendChild(el("p", { className: "error", text: t("preview_unavailable") }));
    } else {
      block.appendChild(el("p", { className: "kb-bubble", "data-testid": "preview-text", text: answer.text }));
    }
    if (answer.buttons && answer.buttons.length) {
      block.appendChild(el("p", { className: "muted", text: t("preview_buttons") + answer.buttons.map((b) => b.title).join(" / ") }));
    }
    return block;
  }

  async function runPreview() {
    const seq = ++previewSeq;
    const box = $("preview");
    box.setAttribute("aria-busy", "true");
    let data = null;
    try { data = await api("POST", url + "/preview", collect()); } catch (err) { data = null; }
    if (seq !== previewSeq) return data;
    box.removeAttribute("aria-busy");
    clear(box);
    if (data === null) {
      box.appendChild(el("p", { className: "error", text: t("preview_failed") }));
      return null;
    }
    for (const answer of page === "service" ? data.answers : [data]) box.appendChild(answerBlock(answer));
    showProblems(data.problems, false);
    return data;
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 400);
  }

  async function showDiff(id) {
    let data;
    try { data = await api("GET", BASE + "/revisions/" + id); } catch (err) { return; }
    const view = $("diff-view");
    clear(view);
    for (const line of (data.diff || "").split("\n")) {
      let kind = "";
      if (line.startsWith("@@")) kind = "diff-hunk";
      else if (line.startsWith("+") && !line.startsWith("+++")) kind = "diff-add";
      else if (line.startsWith("-") && !line.startsWith("---")) kind = "diff-del";
      view.appendChild(el("span", { className: kind, text: line }));
    }
    $("diff-heading").textContent = fill(t("diff_of"), { id });
    $("diff-panel").hidden = false;
    $("diff-heading").focus();
  }

  async function rollBack(id) {
    if (!window.confirm(fill(t("rollback_confirm"), { id }))) return;
    const message = $("history-message");
    try {
      await api("POST", BASE + "/revisions/" + id + "/rollback", {});
      sessionStorage.setItem(FLASH, fill(t("rolled_back"), { id }));
      window.location.reload();
    } catch (err) {
      message.textContent = err.status === 409 ? t("rollback_conflict") : err.status === 422 ? t("publish_refused") : t("error_generic");
    }
  }

  async function refreshHistory() {
    const rows = $("history-rows");
    if (!rows) return;
    let items;
    try { items = await api("GET", BASE + "/revisions?target=" + encodeURIComponent(root.dataset.target)); } catch (err) { return; }
    clear(rows);
    if (!items.length) {
      rows.appendChild(el("tr", {}, el("td", { colSpan: 4, className: "muted", text: t("history_empty") })));
      return;
    }
    for (const r of items) {
      const diff = el("button", { type: "button", className: "secondary", text: t("view_diff"), "data-testid": "view-diff-" + r.id });
      diff.setAttribute("aria-controls", "diff-panel");
      diff.addEventListener("click", () => showDiff(r.id));
      const actions = el("td", { className: "kb-row" }, diff);
      if (r.can_roll_back) {
        const back = el("button", { type: "button", className: "secondary", text: t("roll_back"), "data-testid": "roll-back-" + r.id });
        back.addEventListener("click", () => rollBack(r.id));
        actions.appendChild(back);
      }
      const summary = el("td", {}, fill(t("revision_prefix"), { id: r.id }) + " " + r.summary + " ",
        r.changes_nlu ? el("span", { className: "badge", text: t("nlu_changed_badge") }) : null);
      rows.appendChild(el("tr", { "data-testid": "revision-" + r.id },
        el("td", { text: when(r.created_at) }), el("td", { text: r.author }), summary, actions));
    }
  }

  function setupEditor() {
    const form = $("editor-form");
    const status = $("publish-status");
    const flash = sessionStorage.getItem(FLASH);
    if (flash) {
      status.textContent = flash;
      sessionStorage.removeItem(FLASH);
    }
    form.addEventListener("input", (event) => {
      if (event.target.id !== "field-summary") schedulePreview();
    });
    for (const chip of root.querySelectorAll("[data-placeholder]")) {
      chip.addEventListener("click", () => {
        const area = $("field-answer");
        const start = area.selectionStart ?? area.value.length;
        const end = area.selectionEnd ?? start;
        area.setRangeText("{" + chip.dataset.placeholder + "}", start, end, "end");
        area.focus();
        schedulePreview();
      });
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("publish-btn");
      button.disabled = true;
      status.dataset.state = "publishing";
      status.textContent = t("publishing");
      const body = Object.assign(collect(), { version: root.dataset.version, summary: $("field-summary").value });
      try {
        const result = await api("PUT", url, body);
        const fresh = await api("GET", url);
        root.dataset.version = fresh.version;
        $("field-summary").value = "";
        const heading = $("entry-heading") || $("service-heading");
        heading.textContent = page === "service" ? fresh.fields.name : fresh.title;
        showProblems([], false);
        status.dataset.state = "published";
        status.textContent = result.needs_retraining ? t("published_needs_training") : t("published");
        refreshHistory();
        refreshTraining();
      } catch (err) {
        status.dataset.state = "error";
        if (err.status === 409) status.textContent = t("publish_conflict");
        else if (err.code === "faq_no_change") status.textContent = t("problem_no_change");
        else if (err.status === 422) {
          status.textContent = t("publish_refused");
          const data = await runPreview();
          if (data && data.problems.length) {
            showProblems(data.problems, true);
            $("problems").focus();
          }
        } else status.textContent = t("error_generic");
      } finally {
        button.disabled = false;
      }
    });
    runPreview();
    refreshHistory();
  }

  setupTraining();
  if (page === "overview") {
    setupSearch();
    refreshOpen();
    refreshRecent();
  } else {
    setupEditor();
  }
})();
