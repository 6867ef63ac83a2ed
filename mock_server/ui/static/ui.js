// tunemock dashboard: live parts of a page refetched when the mock changes (Server-Sent
// Events), and forms that call the /_mock JSON API. Nothing else; no other host.
"use strict";

const statusLine = document.getElementById("status");
const live = document.querySelector("[data-live]");

function say(text, bad) {
  statusLine.textContent = text;
  statusLine.classList.toggle("bad", Boolean(bad));
}

// --- live updates -------------------------------------------------------------------------
let busy = false;
let again = false;

async function refresh() {
  if (!live) return;
  if (busy) { again = true; return; }
  busy = true;
  try {
    const url = new URL(location.href);
    url.searchParams.set("fragment", "1");
    const answer = await fetch(url.pathname + url.search, { cache: "no-store" });
    if (answer.ok) swap(await answer.text());
  } finally {
    busy = false;
    if (again) { again = false; refresh(); }
  }
}

function swap(html) {
  // keep what the reader opened, typed, and where the keyboard focus is: a live part is
  // refetched every second on a real clock, and a form field typed into must not go back
  // to its default under the reader's hands
  const open = new Set([...live.querySelectorAll("details[open]")].map(keyOf));
  const active = document.activeElement;
  const focused = active && live.contains(active) ? focusKey(active) : null;
  // and the caret or selection in it: typing on into the new field goes where it would have
  // gone (number fields have none: null)
  const selection = focused && typeof active.selectionStart === "number"
    ? [active.selectionStart, active.selectionEnd, active.selectionDirection] : null;
  const typed = new Map();
  for (const el of fieldsOf(live)) if (edited(el)) typed.set(fieldKey(el), el.type === "checkbox" ? el.checked : el.value);
  live.innerHTML = html;
  for (const d of live.querySelectorAll("details")) if (open.has(keyOf(d))) d.open = true;
  for (const el of fieldsOf(live)) {
    const key = fieldKey(el);
    if (!typed.has(key)) continue;
    if (el.type === "checkbox") el.checked = typed.get(key); else el.value = typed.get(key);
  }
  if (focused) {
    const again = [...live.querySelectorAll("a, button, input, select, textarea, summary")]
      .find((el) => focusKey(el) === focused);
    if (again) {
      again.focus();
      if (selection && typeof again.selectionStart === "number") again.setSelectionRange(...selection);
    }
  }
}

function keyOf(details) {
  const owner = details.closest("[data-delivery]");
  const summary = details.querySelector("summary");
  return details.dataset.key || [owner ? owner.dataset.delivery : "", summary ? summary.textContent : ""].join("|");
}

function fieldsOf(root) {
  return root.querySelectorAll("form input, form textarea, form select");
}

function edited(el) {
  if (el.type === "checkbox") return el.checked !== el.defaultChecked;
  if (el.tagName === "SELECT") return [...el.options].some((o) => o.selected !== o.defaultSelected);
  return el.value !== el.defaultValue;
}

function fieldKey(el) {
  return [el.closest("form").dataset.api || "", el.name || "", el.type || ""].join("|");
}

function focusKey(el) {
  const form = el.closest("form");
  return [el.tagName, el.name || "", el.textContent.trim(), form ? form.dataset.api : el.getAttribute("href")].join("|");
}

if (live && window.EventSource) {
  let last = null;
  const events = new EventSource(live.dataset.live);
  events.addEventListener("change", (e) => {
    // the first mark of a connection refreshes too: something may have changed between
    // rendering the page and connecting
    if (e.data !== last) refresh();
    last = e.data;
  });
}

// --- actions through the admin API -----------------------------------------------------------
function bodyOf(form) {
  const body = {};
  const url = { path: form.dataset.api };
  for (const el of form.elements) {
    if (!el.name) continue;
    let value;
    if (el.type === "checkbox") { if (!el.checked) continue; value = true; }
    else if (el.value === "" && el.dataset.type !== "number-or-null") continue;
    else if (el.dataset.type === "number") value = Number(el.value);
    else if (el.dataset.type === "number-or-null") value = el.value === "" ? null : Number(el.value);
    else value = el.value;
    if (url.path.includes("{" + el.name + "}")) {
      url.path = url.path.replace("{" + el.name + "}", encodeURIComponent(value));
      continue;
    }
    const parts = el.name.split(".");
    let node = body;
    for (const part of parts.slice(0, -1)) node = node[part] = node[part] || {};
    node[parts[parts.length - 1]] = value;
  }
  return { path: url.path, body };
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  const { path, body } = bodyOf(form);
  const method = form.dataset.method || "POST";
  const init = { method, headers: {} };
  if (method !== "GET" && method !== "DELETE") {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  try {
    const answer = await fetch(path, init);
    const text = await answer.text();
    let shown = text;
    try { const data = JSON.parse(text); shown = data.error || (data.now ? "Clock now " + data.now : ""); } catch (e) { /* plain text */ }
    say(`${method} ${path} → ${answer.status}${shown ? ": " + shown : ""}`, !answer.ok);
  } catch (error) {
    say(`${method} ${path} failed: ${error}`, true);
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
  refresh();
});
