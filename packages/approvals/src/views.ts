import type { ApprovalAuditRecord } from "./audit-log.js";
import { html, type Raw } from "./html.js";
import type { EscalationView, GrantView } from "./view-model.js";

export interface PageContext {
  title: string;
  approver?: string;
  csrf?: string;
  flash?: string;
  active?: "inbox" | "grants" | "history";
}

/** The page shell: no inline script or style anywhere (the CSP forbids them). */
export function layout(ctx: PageContext, body: Raw): string {
  const nav = (href: string, label: string, key: PageContext["active"]) =>
    html`<a href="${href}"${key === ctx.active ? html` aria-current="page"` : ""}>${label}</a>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${ctx.csrf ? html`<meta name="csrf-token" content="${ctx.csrf}">` : ""}
<title>${ctx.title} · AgentGate approvals</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<header class="top">
  <span class="brand">AgentGate <span>approvals</span></span>
  ${
    ctx.approver
      ? html`<nav aria-label="Main">${nav("/", "Inbox", "inbox")}${nav("/grants", "Grants", "grants")}${nav("/history", "History", "history")}</nav>
  <form method="post" action="/logout" class="who"><input type="hidden" name="csrf" value="${ctx.csrf}"><span>${ctx.approver}</span> <button class="link">Sign out</button></form>`
      : ""
  }
</header>
<main>
${ctx.flash ? html`<p class="flash" role="status">${ctx.flash}</p>` : ""}
${body}
</main>
</body>
</html>`}`;
}

export function loginPage(error?: string): string {
  return layout(
    { title: "Sign in" },
    html`<form method="post" action="/login" class="login">
  <h1>Sign in</h1>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" required autofocus maxlength="64">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
  <button type="submit" class="primary">Sign in</button>
</form>`,
  );
}

function time(iso: string): Raw {
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>`;
}

export function escalationCard(e: EscalationView, csrf: string): Raw {
  return html`<article class="card" id="esc-${e.id}" data-id="${e.id}" aria-labelledby="h-${e.id}">
  <h2 id="h-${e.id}"><span class="agent">${e.agentName}</span> <span class="muted mono">${e.agentId}</span></h2>
  <dl>
    <dt>Action</dt><dd class="mono">${e.action}</dd>
    <dt>Target</dt><dd class="mono target">${e.target || "—"}</dd>
    <dt>Rule</dt><dd>${e.reason} <span class="muted">(policy ${e.policy})</span></dd>
    <dt>Asked</dt><dd>${time(e.createdAt)}</dd>
    <dt>Expires</dt><dd>${time(e.expiresAt)}</dd>
  </dl>
  ${e.args ? html`<details open><summary>Arguments</summary><pre class="args">${e.args}</pre>${e.argsFull ? html`<details><summary>Full arguments</summary><pre class="args">${e.argsFull}</pre></details>` : ""}</details>` : ""}
  <form method="post" action="/escalations/${encodeURIComponent(e.id)}/answer" class="answer">
    <input type="hidden" name="csrf" value="${csrf}">
    <label><span>Reason <span class="muted">(optional)</span></span><input name="reason" maxlength="500"></label>
    <div class="buttons">
      <button name="answer" value="approve" class="primary">Approve</button>
      <button name="answer" value="grant">Approve for 1 hour</button>
      <button name="answer" value="deny" class="danger">Deny</button>
    </div>
  </form>
</article>`;
}

export function inboxPage(ctx: Omit<PageContext, "title">, items: EscalationView[]): string {
  return layout(
    { ...ctx, title: "Inbox", active: "inbox" },
    html`<h1>Pending approvals <span class="count" id="count">${items.length}</span></h1>
<p class="empty muted" id="empty"${items.length ? html` hidden` : ""}>Nothing waits for you. New requests appear here by themselves.</p>
<div id="inbox" data-live="1">${items.map((e) => escalationCard(e, ctx.csrf ?? ""))}</div>`,
  );
}

export function grantsPage(ctx: Omit<PageContext, "title">, grants: GrantView[]): string {
  return layout(
    { ...ctx, title: "Grants", active: "grants" },
    html`<h1>Active grants</h1>
${
  grants.length === 0
    ? html`<p class="muted">No active grants. "Approve for 1 hour" in the inbox creates one.</p>`
    : html`<div class="table"><table>
<thead><tr><th scope="col">Agent</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Granted by</th><th scope="col">Expires</th><th scope="col">Uses left</th><th scope="col"><span class="sr">Revoke</span></th></tr></thead>
<tbody>${grants.map(
        (g) => html`<tr id="grant-${g.id}">
<td>${g.agentName || g.agentId} <span class="muted mono">${g.agentId}</span></td><td class="mono">${g.action}</td><td class="mono target">${g.target || "—"}</td>
<td>${g.approvedBy}</td><td>${time(g.expiresAt)}</td><td>${g.usesLeft ?? "∞"}</td>
<td><form method="post" action="/grants/${encodeURIComponent(g.id)}/revoke"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="danger">Revoke</button></form></td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}

function what(r: ApprovalAuditRecord): string {
  const on = `${r.action ?? ""}${r.target ? ` ${r.target}` : ""}`;
  if (r.type === "answer")
    return `${r.answer === "approve" ? "approved" : "denied"} ${on}${r.reason ? ` (${r.reason})` : ""}`;
  if (r.type === "grant") return `granted ${on} until ${r.expiresAt ?? "?"}`;
  return `revoked the grant for ${on}`;
}

export function historyPage(ctx: Omit<PageContext, "title">, records: ApprovalAuditRecord[]): string {
  return layout(
    { ...ctx, title: "History", active: "history" },
    html`<h1>Recent answers</h1>
${
  records.length === 0
    ? html`<p class="muted">No answers yet.</p>`
    : html`<div class="table"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Agent</th></tr></thead>
<tbody>${records.map(
        (r) =>
          html`<tr><td>${time(r.at)}</td><td>${r.approver} <span class="muted">(${r.via ?? "?"})</span></td><td class="what">${what(r)}</td><td>${r.agentName ?? ""} <span class="muted mono">${r.agentId ?? ""}</span></td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}
