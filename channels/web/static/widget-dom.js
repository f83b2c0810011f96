/* DOM helpers of the chat widget: elements, safe URLs and server text rendered without HTML. */

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

function markSent(bubble) {
  bubble.setAttribute("data-state", "sent");
  var state = bubble.querySelector(".state");
  if (state) state.remove();
}

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
