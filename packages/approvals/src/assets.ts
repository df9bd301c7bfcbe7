/**
 * The inbox's script and styles, served as files (`/assets/app.js`,
 * `/assets/app.css`): the CSP allows scripts and styles from this origin
 * only, never inline. The script builds every element with `textContent`,
 * so agent-written strings are never parsed as HTML.
 */
export const APP_JS = `const inbox = document.getElementById("inbox");
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}
function when(iso) {
  return el("time", { datetime: iso }, iso.replace("T", " ").replace(/\\.\\d+Z$/, " UTC"));
}
function card(e) {
  const dl = el("dl", {},
    el("dt", {}, "Action"), el("dd", { class: "mono" }, e.action),
    el("dt", {}, "Target"), el("dd", { class: "mono target" }, e.target || "\\u2014"),
    el("dt", {}, "Rule"), el("dd", {}, e.reason + " ", el("span", { class: "muted" }, "(policy " + e.policy + ")")),
    el("dt", {}, "Asked"), el("dd", {}, when(e.createdAt)),
    el("dt", {}, "Expires"), el("dd", {}, when(e.expiresAt)));
  let args = null;
  if (e.args) {
    args = el("details", { open: "" }, el("summary", {}, "Arguments"), el("pre", { class: "args" }, e.args));
    if (e.argsFull) args.append(el("details", {}, el("summary", {}, "Full arguments"), el("pre", { class: "args" }, e.argsFull)));
  }
  const form = el("form", { method: "post", action: "/escalations/" + encodeURIComponent(e.id) + "/answer", class: "answer" },
    el("input", { type: "hidden", name: "csrf", value: csrf }),
    el("label", {}, el("span", {}, "Reason ", el("span", { class: "muted" }, "(optional)")), el("input", { name: "reason", maxlength: "500" })),
    el("div", { class: "buttons" },
      el("button", { name: "answer", value: "approve", class: "primary" }, "Approve"),
      el("button", { name: "answer", value: "grant" }, "Approve for 1 hour"),
      el("button", { name: "answer", value: "deny", class: "danger" }, "Deny")));
  const h = el("h2", { id: "h-" + e.id }, el("span", { class: "agent" }, e.agentName), " ", el("span", { class: "muted mono" }, e.agentId));
  const a = el("article", { class: "card fresh", id: "esc-" + e.id, "data-id": e.id, "aria-labelledby": "h-" + e.id }, h, dl, args, form);
  return a;
}
function update(list) {
  const want = new Set(list.map((e) => e.id));
  for (const c of [...inbox.children]) if (!want.has(c.dataset.id)) c.remove();
  let prev = null;
  for (const e of list) {
    let c = document.getElementById("esc-" + e.id);
    if (!c) c = card(e);
    if (prev === null ? inbox.firstElementChild !== c : prev.nextElementSibling !== c) {
      if (prev === null) inbox.prepend(c); else prev.after(c);
    }
    prev = c;
  }
  document.getElementById("count").textContent = String(list.length);
  document.getElementById("empty").hidden = list.length > 0;
  document.title = (list.length ? "(" + list.length + ") " : "") + "Inbox \\u00b7 AgentGate approvals";
}
if (inbox && inbox.dataset.live) {
  const source = new EventSource("/events");
  source.addEventListener("escalations", (ev) => {
    try { update(JSON.parse(ev.data)); } catch { /* a malformed event changes nothing */ }
  });
}
`;

export const APP_CSS = `:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #16181d; --muted: #667085; --card: #fff; --line: #e3e6ea; --accent: #2457d6; --danger: #c62828; --ok: #1b7f3b; }
@media (prefers-color-scheme: dark) { :root { --bg: #111318; --fg: #e8eaef; --muted: #98a1b3; --card: #1a1d24; --line: #2a2f3a; --accent: #7aa2ff; --danger: #ff6b6b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
.brand { font-weight: 700; } .brand span { font-weight: 400; color: var(--muted); }
nav { display: flex; gap: 1rem; } nav a { color: var(--fg); text-decoration: none; padding: .25rem 0; border-bottom: 2px solid transparent; }
nav a[aria-current="page"] { border-color: var(--accent); font-weight: 600; }
.who { margin-left: auto; color: var(--muted); }
main { max-width: 860px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: .5rem 0 1rem; } h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.count { display: inline-block; min-width: 1.6em; padding: 0 .45em; border-radius: 1em; background: var(--accent); color: #fff; font-size: .85rem; text-align: center; vertical-align: middle; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
.card.fresh { animation: fresh 1.2s ease-out; } @keyframes fresh { from { box-shadow: 0 0 0 3px var(--accent); } to { box-shadow: none; } }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .9rem; margin: 0 0 .6rem; } dt { color: var(--muted); } dd { margin: 0; min-width: 0; }
.mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
pre.args { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; max-height: 18rem; overflow: auto; white-space: pre-wrap; word-break: break-word; margin: .4rem 0; }
summary { cursor: pointer; color: var(--muted); }
.answer { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-top: .75rem; }
.answer label { flex: 1 1 14rem; display: flex; flex-direction: column; gap: .2rem; font-size: .9rem; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
input { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; min-height: 2.5rem; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; } button.danger { color: var(--danger); border-color: var(--danger); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; min-height: 0; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.muted { color: var(--muted); } .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.flash { background: var(--card); border-left: 4px solid var(--accent); padding: .6rem .8rem; border-radius: 6px; }
.error { color: var(--danger); }
.login { max-width: 22rem; margin: 3rem auto; display: flex; flex-direction: column; gap: .4rem; background: var(--card); padding: 1.5rem; border: 1px solid var(--line); border-radius: 10px; }
.login button { margin-top: .8rem; }
.table { overflow-x: auto; } table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; } th { color: var(--muted); font-weight: 600; font-size: .9rem; white-space: nowrap; }
td.target, td.what { overflow-wrap: anywhere; } td .muted.mono { display: block; font-size: .78rem; word-break: break-all; } td button { white-space: nowrap; }
@media (max-width: 560px) { dl { grid-template-columns: 1fr; } dt { margin-top: .3rem; } .buttons button { flex: 1 1 auto; } }
`;
