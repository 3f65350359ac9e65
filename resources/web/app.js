// The reference page: one EventSource per message, rendering the engine's events.
// The token (if the server wants one) comes in the address's fragment (`/#token=...`,
// which a browser never sends to a server). It is kept in sessionStorage (per origin,
// so per port), removed from the address bar, and sent as `Authorization: Bearer` on
// fetch; as `?token=` only where no header can be set (EventSource). Never a cookie:
// a cookie for 127.0.0.1 would reach every port of 127.0.0.1.
"use strict";
const token = (() => {
  const given = new URLSearchParams(location.hash.slice(1)).get("token");
  if (given) {
    sessionStorage.setItem("desktop-agent-token", given);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("desktop-agent-token");
})();
const authorization = token ? { Authorization: "Bearer " + token } : {};
const log = document.getElementById("log");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const send = document.getElementById("send");
let conversationId = null;

function add(kind, text, label) {
  const div = document.createElement("div");
  div.className = "entry " + kind;
  if (label) {
    const span = document.createElement("span");
    span.className = "label";
    span.textContent = label;
    div.appendChild(span);
  }
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = text || "";
  div.appendChild(body);
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
  return div;
}

function ask(message) {
  add("user", message, "You");
  let answer = null;
  const tools = {};
  const params = new URLSearchParams({ message });
  if (conversationId) params.set("conversation_id", conversationId);
  if (token) params.set("token", token);
  const source = new EventSource("/chat/stream?" + params.toString());
  send.disabled = true;
  const on = (type, handler) =>
    source.addEventListener(type, (e) => { if (e.data) handler(JSON.parse(e.data)); });
  on("message_chunk", (ev) => {
    conversationId = ev.tenant_id;
    if (!answer) answer = add("assistant", "", "Assistant");
    answer.querySelector(".body").textContent += ev.data.chunk;
    log.scrollTop = log.scrollHeight;
  });
  on("message_complete", () => { answer = null; });
  on("tool_call_start", (ev) => {
    tools[ev.data.call_id] = add("tool running", ev.data.tool_name + " " + JSON.stringify(ev.data.arguments));
  });
  on("tool_call_end", (ev) => {
    const el = tools[ev.data.call_id];
    if (!el) return;
    el.className = "entry tool " + (ev.data.error ? "failed" : "ok");
    el.querySelector(".body").textContent = ev.data.error
      ? "✗ " + ev.data.tool_name + ": " + ev.data.error
      : "✓ " + ev.data.tool_name + " (" + Math.round(ev.data.duration_ms) + " ms)";
  });
  on("tool_approval_request", (ev) => {
    // The run waits: show the tool and its arguments, and answer over POST /api/approve.
    const card = add("approval", ev.data.tool_name + " " + JSON.stringify(ev.data.arguments, null, 1), "Allow this tool to run?");
    for (const [decision, label] of [["allow", "Allow once"], ["always", "Always allow"], ["deny", "Deny"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.addEventListener("click", async () => {
        card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        await fetch("/api/approve", {
          method: "POST", headers: { "Content-Type": "application/json", ...authorization },
          body: JSON.stringify({ call_id: ev.data.call_id, decision, conversation_id: ev.tenant_id }),
        });
        card.querySelector(".label").textContent = label + ":";
      });
      card.appendChild(button);
    }
  });
  on("error", (ev) => add("error", ev.data.error, "Error"));
  on("done", (ev) => {
    conversationId = ev.tenant_id;
    source.close();
    send.disabled = false;
    input.focus();
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) return;
    source.close();
    add("error", "The connection to the server was lost.", "Error");
    send.disabled = false;
  };
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const message = input.value.trim();
  if (!message || send.disabled) return;
  input.value = "";
  ask(message);
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    form.requestSubmit();
  }
});
input.focus();
