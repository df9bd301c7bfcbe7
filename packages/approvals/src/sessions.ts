import { randomBytes } from "node:crypto";
import type { Approver } from "./approvers-file.js";

/** A signed-in browser: the approver, a CSRF token bound to it, and a one-shot message for the next page. */
export interface Session {
  id: string;
  approver: Approver;
  csrf: string;
  expiresAt: number;
  flash?: string;
}

/** Server-side sessions: the cookie holds only a random id. */
export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly ttlMs: number;

  constructor(ttlMs = 12 * 3_600_000) {
    this.ttlMs = ttlMs;
  }

  create(approver: Approver, now = Date.now()): Session {
    if (this.#sessions.size > 10_000) this.#sweep(now);
    const s: Session = {
      id: randomBytes(32).toString("base64url"),
      approver,
      csrf: randomBytes(32).toString("base64url"),
      expiresAt: now + this.ttlMs,
    };
    this.#sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= now) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
    while (this.#sessions.size > 10_000) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
  }
}

/**
 * Failed sign-ins per username and in total, in a fixed window: past the
 * limit every attempt is refused (even a right password) until the window ends.
 */
export class SignInLimiter {
  readonly #fails = new Map<string, { count: number; resetAt: number }>();
  readonly perUser: number;
  readonly total: number;
  readonly windowMs: number;

  constructor(options: { perUser?: number; total?: number; windowMs?: number } = {}) {
    this.perUser = options.perUser ?? 5;
    this.total = options.total ?? 100;
    this.windowMs = options.windowMs ?? 15 * 60_000;
  }

  #entry(key: string, now: number): { count: number; resetAt: number } {
    let e = this.#fails.get(key);
    if (!e || e.resetAt <= now) {
      e = { count: 0, resetAt: now + this.windowMs };
      this.#fails.set(key, e);
    }
    return e;
  }

  /** Milliseconds to wait, or 0 when an attempt may be made. */
  blockedFor(user: string, now = Date.now()): number {
    const u = this.#entry(`u:${user.toLowerCase()}`, now);
    const all = this.#entry("*", now);
    if (u.count >= this.perUser) return u.resetAt - now;
    if (all.count >= this.total) return all.resetAt - now;
    return 0;
  }

  fail(user: string, now = Date.now()): void {
    if (this.#fails.size > 50_000) this.#fails.clear();
    this.#entry(`u:${user.toLowerCase()}`, now).count++;
    this.#entry("*", now).count++;
  }

  succeed(user: string): void {
    this.#fails.delete(`u:${user.toLowerCase()}`);
  }
}
