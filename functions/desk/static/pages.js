/* Shared by the order desk and the reset page: DOM building without innerHTML (API text is never parsed as HTML),
   JSON calls to the API on this origin, and formatting. */
"use strict";

const Pages = (() => {
  function h(tag, attrs, ...children) {
    const svg = tag.startsWith("svg:");
    const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  // One JSON call. Answers {ok, status, data}; a network failure is a status-0 answer with a message, never a throw.
  async function call(method, path, body) {
    const init = {method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (err) {
      return {ok: false, status: 0, data: {error: "the server could not be reached; check the connection and try again"}};
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (err) {
      data = null;
    }
    if (!resp.ok && !(data && typeof data.error === "string")) {
      data = {error: `the server answered ${resp.status} ${resp.statusText || ""}`.trim()};
    }
    return {ok: resp.ok, status: resp.status, data};
  }

  const rupiah = new Intl.NumberFormat("id-ID", {style: "currency", currency: "IDR", maximumFractionDigits: 0});
  function money(value) {
    return rupiah.format(Number(value) || 0);
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString("en-GB", {year: "numeric", month: "short", day: "2-digit", hour: "2-digit",
                                      minute: "2-digit", timeZone: "UTC"}) + " UTC";
  }

  // A message region: role=alert for errors (read out at once), role=status for success.
  function notice(kind, text) {
    return h("p", {class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", text});
  }

  return {h, call, money, when, notice};
})();
