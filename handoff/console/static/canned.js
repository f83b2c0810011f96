// The supervisors' editor of canned replies (标准化用语): list, add, edit, switch off, delete. Plain text only.
"use strict";

(() => {
  const { t, el, clear, api } = Console;
  const $ = (id) => document.getElementById(id);
  let replies = [];

  function when(iso) {
    return new Date(iso).toLocaleString("zh-CN", { hour12: false });
  }

  // The defaults the installation started with are signed "system" by the migration that loaded them.
  function author(reply) { return reply.updated_by === "system" ? t("canned_seeded") : reply.updated_by; }

  function say(text) { $("canned-message").textContent = text; }

  function fail(err) {
    const key = err.code === "canned_title_taken" ? "canned_title_taken"
      : (err.status === 422 ? "canned_invalid" : null);
    $("canned-error").textContent = key ? t(key) : (err.message || t("error_generic"));
  }

  function button(label, testId, onClick, secondary) {
    const node = el("button", { type: "button", text: label, "data-testid": testId, className: secondary ? "secondary" : "" });
    node.addEventListener("click", onClick);
    return node;
  }

  function row(reply) {
    const edit = button(t("canned_edit_short"), "canned-edit-" + reply.id, () => startEdit(reply), true);
    const remove = button(t("canned_delete"), "canned-delete-" + reply.id, () => removeReply(reply), true);
    return el("tr", { "data-canned-id": reply.id, className: reply.is_active ? "" : "inactive" },
      el("td", { text: String(reply.sort_order) }),
      el("td", { text: reply.title }),
      el("td", { text: reply.category || "" }),
      el("td", { className: "desc", text: reply.text }),
      el("td", { text: reply.is_active ? t("canned_active") : t("canned_inactive") }),
      el("td", { className: "muted", text: author(reply) + " · " + when(reply.updated_at) }),
      el("td", { className: "actions" }, edit, " ", remove));
  }

  async function load() {
    try { replies = await api("GET", "/api/handoff/canned?include_inactive=true"); } catch (err) { fail(err); return; }
    const body = $("canned-rows");
    clear(body);
    if (!replies.length) body.appendChild(el("tr", {}, el("td", { className: "empty", text: t("canned_empty") })));
    for (const reply of replies) body.appendChild(row(reply));
  }

  function resetForm() {
    $("canned-form").reset();
    $("canned-id").value = "";
    $("canned-active").checked = true;
    $("canned-cancel").hidden = true;
    const heading = $("canned-form-heading");
    heading.textContent = heading.dataset.new;
  }

  function startEdit(reply) {
    $("canned-id").value = String(reply.id);
    $("canned-title").value = reply.title;
    $("canned-category").value = reply.category || "";
    $("canned-sort").value = String(reply.sort_order);
    $("canned-active").checked = reply.is_active;
    $("canned-text").value = reply.text;
    $("canned-cancel").hidden = false;
    const heading = $("canned-form-heading");
    heading.textContent = heading.dataset.edit + "：" + reply.title;
    $("canned-error").textContent = "";
    $("canned-title").focus();
  }

  async function removeReply(reply) {
    if (!window.confirm(t("canned_delete_confirm").replace("{title}", reply.title))) return;
    try { await api("DELETE", "/api/handoff/canned/" + reply.id); } catch (err) { fail(err); return; }
    if ($("canned-id").value === String(reply.id)) resetForm();
    say(t("canned_deleted"));
    load();
  }

  $("canned-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("canned-error").textContent = "";
    const id = $("canned-id").value;
    const sort = $("canned-sort").value.trim();
    const body = {
      title: $("canned-title").value, text: $("canned-text").value,
      category: $("canned-category").value.trim() || null,
      sort_order: sort === "" ? null : Number(sort), is_active: $("canned-active").checked,
    };
    try {
      await api(id ? "PUT" : "POST", "/api/handoff/canned" + (id ? "/" + id : ""), body);
    } catch (err) { fail(err); return; }
    resetForm();
    say(t("canned_saved"));
    load();
  });
  $("canned-cancel").addEventListener("click", resetForm);

  load();
})();
