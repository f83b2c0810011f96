// Shared pieces of the console pages. Citizen text only ever reaches the DOM through textContent.
"use strict";

const Console = (() => {
  const texts = JSON.parse(document.getElementById("console-texts").textContent || "{}");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function t(key, fallback) {
    return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : (fallback === undefined ? key : fallback);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else if (name.startsWith("data-") || name === "id" || name === "title" || name === "value" || name === "type") node.setAttribute(name, String(value));
      else node[name] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  async function api(method, url, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
    const response = await fetch(url, options);
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (response.status === 401) { window.location.assign("/console/login"); }
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || response.statusText);
      error.code = data && data.error && data.error.code;
      error.details = data && data.error && data.error.details;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    if (s < 60) return s + t("seconds");
    return Math.floor(s / 60) + t("minutes");
  }

  let audio = null;
  function beep(times) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (let i = 0; i < (times || 1); i++) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = 880;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        const start = audio.currentTime + i * 0.3;
        osc.start(start);
        osc.stop(start + 0.18);
      }
    } catch (err) { /* audio is a courtesy; the list still updates */ }
  }

  // A desktop notification when permitted: by default only while the tab is hidden; `always` for urgent news.
  function notify(title, body, always) {
    if ("Notification" in window && Notification.permission === "granted" && (always || document.hidden)) {
      try { new Notification(title, { body }); } catch (err) { /* some browsers forbid it outside service workers */ }
    }
  }

  function enableAlerts() {
    beep(1);
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  }

  // Opens the console socket. Every event also goes out as a DOM "console-event" (detail = the event), and
  // <html data-console-events="dispatch"> tells page-wide scripts (overdue alerts) not to open a socket of their own.
  function connect(onEvent, onOpen) {
    document.documentElement.dataset.consoleEvents = "dispatch";
    const state = document.getElementById("connection-state");
    let socket = null;
    let pinger = null;
    function open() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + "/console/ws");
      socket.addEventListener("open", () => {
        if (state) { state.textContent = t("connected"); state.dataset.state = "open"; }
        socket.send(JSON.stringify({ type: "ping" }));
        pinger = setInterval(() => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping" })), 30000);
        if (onOpen) onOpen(socket);
      });
      socket.addEventListener("message", (message) => {
        let event = null;
        try { event = JSON.parse(message.data); } catch (err) { return; }
        onEvent(event, socket);
        document.dispatchEvent(new CustomEvent("console-event", { detail: event }));
      });
      socket.addEventListener("close", () => {
        if (state) { state.textContent = t("connection_lost"); state.dataset.state = "closed"; }
        clearInterval(pinger);
        setTimeout(open, 3000);
      });
    }
    open();
    return { send: (data) => socket && socket.readyState === 1 && socket.send(JSON.stringify(data)) };
  }

  return { t, el, clear, api, duration, beep, notify, enableAlerts, connect };
})();
