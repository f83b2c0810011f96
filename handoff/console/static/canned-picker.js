// Canned replies (标准化用语) in the workspace's reply box: "/" at the start of the box opens a list filtered by
// what follows it (arrow keys move, Enter inserts, Esc closes); a select beside the box offers the same replies.
// The inserted text stays in the box to be edited before it is sent. Replies are plain text: textContent only.
"use strict";

const CannedPicker = (() => {
  const { t, el, clear, api } = Console;

  function attach({ box, list, select, status }) {
    let replies = [];
    let shown = [];
    let active = -1;
    let dismissed = null;   // the box's value when Esc closed the list; typing on opens it again

    function query() {
      const value = box.value;
      if (!value.startsWith("/") || value.includes("\n")) return null;
      return value.slice(1).trim().toLowerCase();
    }

    function isOpen() { return !list.hidden; }

    function close() {
      list.hidden = true;
      active = -1;
      box.removeAttribute("aria-activedescendant");
    }

    function move(index) {
      active = index;
      Array.from(list.querySelectorAll('[role="option"][data-canned-id]')).forEach((option, i) => {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
        if (i === active) {
          box.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
      if (active < 0) box.removeAttribute("aria-activedescendant");
    }

    function insert(reply) {
      box.value = reply.text;
      dismissed = null;
      close();
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    }

    function option(reply) {
      const item = el("li", { id: "canned-option-" + reply.id, className: "canned-option", "data-canned-id": reply.id },
        el("span", { className: "canned-title", text: reply.title }),
        reply.category ? el("span", { className: "canned-category", text: reply.category }) : null,
        el("span", { className: "canned-text", text: reply.text }));
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      // Keeps the focus in the reply box, so a click inserts like Enter does.
      item.addEventListener("mousedown", (e) => e.preventDefault());
      item.addEventListener("click", () => insert(reply));
      return item;
    }

    function render(words) {
      // Replies whose title matches come first, then those matched by category or text, each in their own order.
      const rank = (r) => (!words || r.title.toLowerCase().includes(words) ? 0
        : ((r.category || "") + " " + r.text).toLowerCase().includes(words) ? 1 : 2);
      shown = replies.filter((r) => rank(r) < 2).sort((a, b) => rank(a) - rank(b));
      clear(list);
      for (const reply of shown) list.appendChild(option(reply));
      if (!shown.length) {
        const empty = el("li", { className: "canned-empty", text: t("canned_none_match") });
        empty.setAttribute("role", "option");
        empty.setAttribute("aria-disabled", "true");
        list.appendChild(empty);
      }
      list.hidden = false;
      move(shown.length ? 0 : -1);
      status.textContent = shown.length ? t("canned_count").replace("{count}", String(shown.length)) : t("canned_none_match");
    }

    box.addEventListener("input", () => {
      const words = query();
      if (words === null || !replies.length) { close(); dismissed = null; return; }
      if (dismissed !== null && box.value === dismissed) return;
      dismissed = null;
      render(words);
    });

    box.addEventListener("keydown", (e) => {
      if (!isOpen()) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (shown.length) move((active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length);
      } else if (e.key === "Enter") {
        // While the list is open Enter picks; it neither breaks the line nor sends the "/..." text.
        e.preventDefault();
        e.stopImmediatePropagation();
        if (active >= 0) insert(shown[active]);
      } else if (e.key === "Escape") {
        e.preventDefault();
        dismissed = box.value;
        close();
      } else if (e.key === "Tab") {
        close();
      }
    });

    box.addEventListener("blur", close);

    select.addEventListener("change", () => {
      const reply = replies.find((r) => String(r.id) === select.value);
      if (reply) {
        box.value = (box.value ? box.value + "\n" : "") + reply.text;
        box.focus();
      }
      select.value = "";
    });

    async function load() {
      try {
        replies = await api("GET", "/api/handoff/canned");
      } catch (err) {
        replies = [];
      }
      while (select.options.length > 1) select.remove(1);
      for (const reply of replies) select.appendChild(el("option", { value: reply.id, text: reply.title }));
      select.disabled = !replies.length;
      select.options[0].textContent = replies.length ? t("canned_placeholder") : t("canned_unavailable");
    }

    return { load, close };
  }

  return { attach };
})();
