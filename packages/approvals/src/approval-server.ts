import { timingSafeEqual } from "node:crypto";
import type { GateStore } from "@agentgate/core";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import { APP_CSS, APP_JS } from "./assets.js";
import { ApprovalAudit } from "./audit-log.js";
import { ApproversFile, type Approver } from "./approvers-file.js";
import { ApprovalService, type Answer, type AnswerResult } from "./approval-service.js";
import { Sessions, SignInLimiter, type Session } from "./sessions.js";
import { grantView } from "./view-model.js";
import { grantsPage, historyPage, inboxPage, loginPage } from "./views.js";
import { Webhooks, type WebhookOptions } from "./webhooks.js";

/** Options of {@link createApprovalServer}. */
export interface ApprovalServerOptions {
  /** The store the gates share (a `RedisStore`; a `MemoryStore` for a one-process demo). Grants need a store that keeps them. */
  store: GateStore;
  /** Path of `approvers.yaml` (re-read when it changes). */
  approvers: string;
  /** Append every answer, grant and revocation to this JSONL file. */
  auditFile?: string;
  /** Signed notifications on new escalations and answers. */
  webhook?: WebhookOptions;
  /** The address people use (links in webhooks; the expected `Origin`). Default: the request's own origin. */
  publicUrl?: string;
  /** How often the pending list is re-read for live inboxes and webhooks, default 1000 ms. */
  pollMs?: number;
  /** Failed sign-ins allowed per username (default 5) and in total (default 100) per window (default 15 min). */
  signInLimit?: { perUser?: number; total?: number; windowMs?: number };
  /** Session lifetime, default 12 h. */
  sessionTtlMs?: number;
}

/** A fetch handler (`(request) => Response`) plus the means to stop its timers and flush its audit. */
export interface ApprovalServer {
  (request: Request): Promise<Response>;
  fetch(request: Request): Promise<Response>;
  readonly service: ApprovalService;
  /** Stops the live list, waits for webhook deliveries and audit writes. Does not close the store. */
  close(): Promise<void>;
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HOUR = 3_600_000;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The approval inbox and JSON API as a web-standard fetch handler: mount it
 * in Hono, Next.js, Express (through an adapter) or `agentgate serve`.
 *
 * @example
 * ```ts
 * const server = createApprovalServer({ store, approvers: "approvers.yaml" });
 * serve({ fetch: server.fetch, port: 8787 }); // @hono/node-server
 * ```
 */
export function createApprovalServer(options: ApprovalServerOptions): ApprovalServer {
  if (!options || !options.store) throw new TypeError("createApprovalServer needs { store, approvers }");
  const approvers = new ApproversFile(options.approvers);
  const sessions = new Sessions(options.sessionTtlMs);
  const limiter = new SignInLimiter(options.signInLimit);
  const audit = new ApprovalAudit(options.auditFile);
  const webhooks = options.webhook ? new Webhooks(options.webhook) : undefined;
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined;
  const secure = publicOrigin?.startsWith("https:") ?? false;
  const cookieName = secure ? "__Host-agentgate" : "agentgate_session";
  const service = new ApprovalService({
    store: options.store,
    audit,
    ...(webhooks ? { webhooks } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
  });

  type Env = { Variables: { approver: Approver; session: Session | undefined } };
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("Content-Security-Policy", CSP);
    h.set("X-Content-Type-Options", "nosniff");
    // Not no-referrer: with it, browsers send `Origin: null` on same-origin form posts.
    h.set("Referrer-Policy", "same-origin");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  });
  app.use("*", bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: "request body too large" }, 413) }));

  /** Cross-site requests never change anything: the Origin (or Sec-Fetch-Site) must be ours. */
  const sameOrigin = (c: Context): boolean => {
    const origin = c.req.header("origin");
    const expected = publicOrigin ?? new URL(c.req.url).origin;
    if (origin !== undefined) return origin === expected;
    const site = c.req.header("sec-fetch-site");
    return site === undefined || site === "same-origin" || site === "none";
  };

  const identify = (c: Context): { approver: Approver; session?: Session } | undefined => {
    const auth = c.req.header("authorization");
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const approver = m ? approvers.verifyToken(m[1]!) : undefined;
      return approver ? { approver } : undefined;
    }
    const session = sessions.get(getCookie(c, cookieName));
    // Someone removed from approvers.yaml is signed out at their next request.
    if (!session || !approvers.has(session.approver.id)) return undefined;
    return { approver: session.approver, session };
  };

  const page = (c: Context) => {
    const who = identify(c);
    if (!who?.session) return undefined;
    const flash = who.session.flash;
    delete who.session.flash;
    return { approver: who.approver.id, csrf: who.session.csrf, ...(flash ? { flash } : {}) };
  };

  // --- sign-in -----------------------------------------------------------
  app.get("/login", (c) => c.html(loginPage()));
  app.post("/login", async (c) => {
    if (!sameOrigin(c)) return c.html(loginPage("Cross-site sign-in refused."), 403);
    const form = await c.req.parseBody();
    const username = typeof form.username === "string" ? form.username.trim().slice(0, 64) : "";
    const password = typeof form.password === "string" ? form.password.slice(0, 1024) : "";
    const wait = limiter.blockedFor(username);
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return c.html(loginPage(`Too many failed attempts. Try again in ${Math.ceil(wait / 60_000)} min.`), 429);
    }
    const approver = await approvers.verifyPassword(username, password);
    if (!approver) {
      limiter.fail(username);
      void audit.write({ type: "sign_in_failed", at: new Date().toISOString(), approver: username, via: "password" });
      return c.html(loginPage("Wrong username or password."), 401);
    }
    limiter.succeed(username);
    const s = sessions.create(approver);
    void audit.write({ type: "sign_in", at: new Date().toISOString(), approver: approver.id, via: "password" });
    setCookie(c, cookieName, s.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure,
      maxAge: Math.floor(sessions.ttlMs / 1000),
    });
    return c.redirect("/", 303);
  });
  app.post("/logout", async (c) => {
    const who = identify(c);
    const form = await c.req.parseBody();
    if (who?.session && sameOrigin(c) && typeof form.csrf === "string" && same(form.csrf, who.session.csrf))
      sessions.delete(who.session.id);
    deleteCookie(c, cookieName, { path: "/", secure });
    return c.redirect("/login", 303);
  });

  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/assets/app.js", (c) =>
    c.body(APP_JS, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" }),
  );
  app.get("/assets/app.css", (c) =>
    c.body(APP_CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache" }),
  );

  // --- pages ---------------------------------------------------------------
  app.get("/", async (c) => {
    const ctx = page(c);
    if (!ctx) return c.redirect("/login", 303);
    return c.html(inboxPage(ctx, await service.pending()));
  });
  app.get("/grants", async (c) => {
    const ctx = page(c);
    if (!ctx) return c.redirect("/login", 303);
    return c.html(grantsPage(ctx, (await service.listGrants()).map(grantView)));
  });
  app.get("/history", (c) => {
    const ctx = page(c);
    if (!ctx) return c.redirect("/login", 303);
    return c.html(historyPage(ctx, audit.recent.slice(0, 200)));
  });
  app.get("/events", (c) => {
    if (!identify(c)) return c.json({ error: "sign in first" }, 401);
    return streamSSE(c, async (stream) => {
      let stop = () => {};
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      stop = service.subscribe(
        (items) => void stream.writeSSE({ event: "escalations", data: JSON.stringify(items) }).catch(() => {}),
      );
      const ping = setInterval(() => void stream.writeSSE({ event: "ping", data: "" }).catch(() => {}), 15_000);
      await closed;
      clearInterval(ping);
      stop();
    });
  });

  // --- state changes: same origin, signed in, CSRF token (sessions) -----------
  const guard = async (c: Context, next: () => Promise<void>) => {
    if (!sameOrigin(c)) return c.json({ error: "cross-site request refused" }, 403);
    const who = identify(c);
    if (!who) return c.json({ error: "sign in or send Authorization: Bearer <token>" }, 401);
    if (who.session) {
      let token = c.req.header("x-csrf-token");
      if (token === undefined && (c.req.header("content-type") ?? "").includes("form")) {
        const form = await c.req.parseBody();
        token = typeof form.csrf === "string" ? form.csrf : undefined;
      }
      if (!token || !same(token, who.session.csrf)) return c.json({ error: "missing or wrong CSRF token" }, 403);
    }
    c.set("approver", who.approver);
    c.set("session", who.session);
    await next();
  };
  app.use("/api/*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const who = identify(c);
      if (!who) return c.json({ error: "sign in or send Authorization: Bearer <token>" }, 401);
      c.set("approver", who.approver);
      return next();
    }
    return guard(c, next);
  });
  app.use("/escalations/*", guard);
  app.use("/grants/*", guard);

  const flash = (c: Context<Env>, text: string) => {
    const s = c.get("session");
    if (s) s.flash = text;
  };
  const describe = (r: AnswerResult, what: string): string => {
    if (r.status !== 200) return `Not changed: ${r.error}.`;
    const d = r.decision;
    const on = `${d.action}${d.target ? ` ${d.target}` : ""}`;
    if (r.grant) return `Approved ${on} and granted it for 1 hour (grant ${r.grant.id}).`;
    return `${what} ${on}.${r.grantError ? ` ${r.grantError}` : ""}`;
  };

  app.post("/escalations/:id/answer", async (c) => {
    const form = await c.req.parseBody();
    const kind = form.answer;
    const reason = typeof form.reason === "string" && form.reason.trim() !== "" ? form.reason.trim() : undefined;
    if (kind !== "approve" && kind !== "deny" && kind !== "grant")
      return c.json({ error: "answer must be approve, deny or grant" }, 400);
    const answer: Answer = {
      approve: kind !== "deny",
      ...(reason ? { reason } : {}),
      ...(kind === "grant" ? { grant: { ttlMs: HOUR } } : {}),
    };
    const r = await service.answer(c.get("approver"), c.req.param("id"), answer);
    flash(c, describe(r, kind === "deny" ? "Denied" : "Approved"));
    return c.redirect("/", 303);
  });
  app.post("/grants/:id/revoke", async (c) => {
    const g = await service.revoke(c.get("approver"), c.req.param("id"));
    flash(c, g ? `Revoked the grant for ${g.action} ${g.target}.` : "That grant is already gone.");
    return c.redirect("/grants", 303);
  });

  // --- JSON API ------------------------------------------------------------
  app.get("/api/escalations", async (c) => c.json({ escalations: await service.pending() }));
  app.get("/api/grants", async (c) => c.json({ grants: await service.listGrants() }));
  app.get("/api/history", (c) => c.json({ history: audit.recent.slice(0, 200) }));
  const apiAnswer = (approve: boolean) => async (c: Context<Env>) => {
    let body: Record<string, unknown> = {};
    const text = await c.req.text();
    if (text.trim() !== "") {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        body = parsed as Record<string, unknown>;
      } catch {
        return c.json({ error: "the body must be a JSON object: { reason?, grant?: { ttlMs, uses? } }" }, 400);
      }
    }
    const answer: Answer = { approve };
    if (body.reason !== undefined) answer.reason = body.reason as string;
    if (body.grant !== undefined) answer.grant = body.grant as Answer["grant"] & object;
    const r = await service.answer(c.get("approver"), c.req.param("id") ?? "", answer);
    if (r.status !== 200) return c.json(r, r.status);
    return c.json(r, 200);
  };
  app.post("/api/escalations/:id/approve", apiAnswer(true));
  app.post("/api/escalations/:id/deny", apiAnswer(false));
  app.delete("/api/grants/:id", async (c) => {
    const g = await service.revoke(c.get("approver"), c.req.param("id"));
    return g ? c.json({ revoked: g }) : c.json({ error: "unknown grant" }, 404);
  });

  app.onError((error, c) => {
    // Store outages and the like: say so, change nothing, never a stack trace.
    return c.json(
      { error: `the server could not do that: ${error instanceof Error ? error.message : String(error)}` },
      503,
    );
  });

  const fetch = (request: Request) => Promise.resolve(app.fetch(request));
  return Object.assign((request: Request) => fetch(request), {
    fetch,
    service,
    close: async () => {
      service.close();
      await webhooks?.close();
      await audit.flush();
    },
  });
}
