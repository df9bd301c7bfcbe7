import { createHmac, timingSafeEqual } from "node:crypto";

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's layout). */
export const SIGNATURE_HEADER = "x-agentgate-signature";

/** What a webhook says happened. */
export interface WebhookEvent {
  type: "escalation.created" | "escalation.answered" | "grant.created" | "grant.revoked";
  at: string;
  escalationId?: string;
  grantId?: string;
  agent?: { id: string; name: string };
  action?: string;
  target?: string;
  reason?: string;
  /** approve / deny and who, for answers. */
  answer?: "approve" | "deny";
  approver?: string;
  /** The inbox entry. */
  url?: string;
}

/** Options of {@link Webhooks}. */
export interface WebhookOptions {
  url: string;
  /** HMAC key; required unless `format` is `"slack"` (Slack verifies by the secret URL). */
  secret?: string;
  /** `"json"` (default): the event, signed; `"slack"`: Block Kit for an incoming-webhook URL. */
  format?: "json" | "slack";
  /** Attempts in total, default 4 (backoff 0.5 s, 1 s, 2 s). */
  attempts?: number;
  /** Per attempt, default 5000 ms. */
  timeoutMs?: number;
  onError?: (error: unknown, event: WebhookEvent) => void;
}

/** Signs a body: `t=<seconds>,v1=<hex>` over `"<t>.<body>"`. */
export function signWebhook(secret: string, body: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * Verifies a webhook as a receiver should: the HMAC in constant time, and a
 * timestamp within `toleranceSeconds` (default 300) so an old delivery cannot be replayed.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | null | undefined,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (typeof header !== "string") return false;
  const parts = Object.fromEntries(header.split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const t = Number(parts.t);
  const v1 = parts.v1;
  if (!Number.isInteger(t) || typeof v1 !== "string" || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

/** Slack Block Kit: plain text fields (Slack mrkdwn control characters escaped) and a link to the inbox. */
export function slackPayload(event: WebhookEvent): { text: string; blocks: unknown[] } {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const what =
    event.type === "escalation.created"
      ? `Approval needed: ${event.agent?.name ?? "an agent"} wants ${event.action ?? "?"}${event.target ? ` on ${event.target}` : ""}`
      : event.type === "escalation.answered"
        ? `${event.approver ?? "someone"} ${event.answer === "approve" ? "approved" : "denied"} ${event.action ?? ""}${event.target ? ` on ${event.target}` : ""}`
        : `${event.approver ?? "someone"} ${event.type === "grant.created" ? "granted" : "revoked a grant for"} ${event.action ?? ""}${event.target ? ` on ${event.target}` : ""}`;
  const text = esc(what).slice(0, 2900);
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: event.url ? `${text}\n<${event.url}|Open the inbox>` : text } },
  ];
  return { text, blocks };
}

/**
 * Delivers events in the background: `send` returns at once and never
 * throws, so a slow or failing receiver never delays an answer. Retries with
 * exponential backoff; each attempt is signed afresh (new timestamp).
 */
export class Webhooks {
  readonly #o: Required<Omit<WebhookOptions, "secret" | "onError">> & Pick<WebhookOptions, "secret" | "onError">;
  readonly #inflight = new Set<Promise<void>>();
  #closed = false;

  constructor(options: WebhookOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("webhook url must be http(s)");
    const format = options.format ?? "json";
    if (format === "json" && !options.secret)
      throw new TypeError("a webhook needs a secret to sign with (--webhook-secret)");
    this.#o = {
      url: url.href,
      secret: options.secret,
      format,
      attempts: options.attempts ?? 4,
      timeoutMs: options.timeoutMs ?? 5000,
      onError: options.onError,
    };
  }

  send(event: WebhookEvent): void {
    if (this.#closed) return;
    const p = this.#deliver(event).catch((error: unknown) => this.#o.onError?.(error, event));
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async #deliver(event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(this.#o.format === "slack" ? slackPayload(event) : event);
    let last: unknown;
    for (let i = 0; i < this.#o.attempts && !this.#closed; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500 * 2 ** (i - 1)));
      try {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          "user-agent": "agentgate-approvals",
        };
        if (this.#o.secret) headers[SIGNATURE_HEADER] = signWebhook(this.#o.secret, body);
        const res = await fetch(this.#o.url, {
          method: "POST",
          body,
          headers,
          signal: AbortSignal.timeout(this.#o.timeoutMs),
          redirect: "manual",
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) return;
        last = new Error(`webhook answered ${res.status}`);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /** Waits for deliveries in flight (tests, shutdown), then stops retrying. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
  }

  /** Deliveries in flight. */
  get pending(): number {
    return this.#inflight.size;
  }
}
