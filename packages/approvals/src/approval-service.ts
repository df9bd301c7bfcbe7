import {
  grantMatchOf,
  isGrantStore,
  settleStoredEscalation,
  type Decision,
  type EscalationRecord,
  type GateStore,
  type Grant,
  type GrantStore,
} from "@agentgate/core";
import { ApprovalAudit } from "./audit-log.js";
import type { Approver } from "./approvers-file.js";
import { escalationView, sortNewestFirst, type EscalationView } from "./view-model.js";
import type { Webhooks, WebhookEvent } from "./webhooks.js";

/** An approver's answer to one escalation. */
export interface Answer {
  approve: boolean;
  reason?: string;
  /** Approve and create a grant for the same agent, action, target and tool. */
  grant?: { ttlMs: number; uses?: number };
}

/** The outcome of an answer, as the API reports it (`status` is the HTTP status). */
export type AnswerResult =
  | { status: 200; decision: Decision; grant?: Grant; grantError?: string }
  | { status: 400 | 403 | 404 | 409; error: string; decision?: Decision; settledBy?: string };

const MIN_GRANT_MS = 60_000;
const MAX_GRANT_MS = 30 * 24 * 3_600_000;

/** Who settled a decision: the approver of an ALLOW, or the name a DENY reason carries. */
export function settledBy(d: Decision | undefined): string | undefined {
  if (!d) return undefined;
  if (d.approvedBy) return d.approvedBy;
  return /^a human denied it \(([^)]+)\)/.exec(d.reason)?.[1];
}

/**
 * What the server does, apart from HTTP: answers, grants, revocations, the
 * live list for the inbox, audit and webhooks.
 */
export class ApprovalService {
  readonly store: GateStore;
  readonly grants: GrantStore | undefined;
  readonly audit: ApprovalAudit;
  readonly #webhooks: Webhooks | undefined;
  readonly #publicUrl: string | undefined;
  readonly #listeners = new Set<(items: EscalationView[]) => void>();
  #last: EscalationView[] = [];
  #lastKey = "";
  #known = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | undefined;
  #primed = false;

  constructor(options: {
    store: GateStore;
    audit: ApprovalAudit;
    webhooks?: Webhooks;
    publicUrl?: string;
    pollMs?: number;
  }) {
    this.store = options.store;
    this.grants = isGrantStore(options.store) ? options.store : undefined;
    this.audit = options.audit;
    this.#webhooks = options.webhooks;
    this.#publicUrl = options.publicUrl?.replace(/\/$/, "");
    const pollMs = options.pollMs ?? 1000;
    // One read of the pending list per second feeds every open inbox (and the "new escalation" webhook).
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), pollMs);
    this.#timer.unref?.();
    // Escalations already pending at start are not announced again; later ones are.
    void this.refresh().catch(() => {});
  }

  async pending(): Promise<EscalationView[]> {
    const records = await this.store.listEscalations(Date.now());
    return sortNewestFirst(records).map(escalationView);
  }

  /** Re-reads the pending list and tells listeners when it changed. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const records = sortNewestFirst(await this.store.listEscalations(Date.now()));
        const items = records.map(escalationView);
        const key = items.map((i) => i.id).join(",");
        if (this.#primed) for (const r of records) if (!this.#known.has(r.escalationId)) this.#notifyNew(r);
        this.#known = new Set(records.map((r) => r.escalationId));
        this.#primed = true;
        if (key !== this.#lastKey) {
          this.#last = items;
          this.#lastKey = key;
          for (const l of [...this.#listeners]) l(items);
        }
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Calls `listener` with the pending list now and on every change. */
  subscribe(listener: (items: EscalationView[]) => void): () => void {
    this.#listeners.add(listener);
    void this.refresh()
      .catch(() => {})
      .then(() => listener(this.#last));
    return () => this.#listeners.delete(listener);
  }

  #link(id?: string): string | undefined {
    if (!this.#publicUrl) return undefined;
    return id ? `${this.#publicUrl}/#esc-${encodeURIComponent(id)}` : `${this.#publicUrl}/`;
  }

  #notifyNew(r: EscalationRecord): void {
    const ev: WebhookEvent = {
      type: "escalation.created",
      at: new Date().toISOString(),
      escalationId: r.escalationId,
      agent: r.request.agent,
      action: r.request.action,
      reason: r.request.reason,
    };
    if (r.request.target !== undefined) ev.target = r.request.target;
    const url = this.#link(r.escalationId);
    if (url) ev.url = url;
    this.#webhooks?.send(ev);
  }

  async answer(approver: Approver, escalationId: string, answer: Answer): Promise<AnswerResult> {
    if (typeof escalationId !== "string" || escalationId === "" || escalationId.length > 200)
      return { status: 404, error: "unknown escalation" };
    if (answer.reason !== undefined && (typeof answer.reason !== "string" || answer.reason.length > 1000))
      return { status: 400, error: "reason must be a string of at most 1000 characters" };
    const g = answer.grant;
    if (g !== undefined) {
      if (!answer.approve) return { status: 400, error: "a grant comes only with an approval" };
      if (!this.grants) return { status: 400, error: "this store does not keep grants" };
      if (
        typeof g !== "object" ||
        g === null ||
        !Number.isInteger(g.ttlMs) ||
        g.ttlMs < MIN_GRANT_MS ||
        g.ttlMs > MAX_GRANT_MS
      ) {
        return { status: 400, error: `grant.ttlMs must be an integer from ${MIN_GRANT_MS} to ${MAX_GRANT_MS}` };
      }
      if (g.uses !== undefined && (!Number.isInteger(g.uses) || g.uses < 1 || g.uses > 1_000_000))
        return { status: 400, error: "grant.uses must be a positive integer" };
    }
    const resolution = {
      approved: answer.approve,
      approvedBy: approver.id,
      ...(answer.reason ? { reason: answer.reason } : {}),
    };
    const result = await settleStoredEscalation(this.store, escalationId, resolution);
    if (!result.ok) {
      if (result.reason === "unknown") return { status: 404, error: "unknown escalation (never raised, or expired)" };
      if (result.reason === "self_approval")
        return { status: 403, error: "an approver cannot answer their own agent's escalation" };
      if (result.reason === "invalid") return { status: 400, error: "malformed answer" };
      const by = settledBy(result.decision);
      const out: AnswerResult = {
        status: 409,
        error: `already ${result.record?.status ?? "settled"}${by ? ` by ${by}` : ""}`,
      };
      if (result.decision) out.decision = result.decision;
      if (by) out.settledBy = by;
      return out;
    }
    const { record, decision } = result;
    const now = Date.now();
    const base = {
      at: new Date(now).toISOString(),
      approver: approver.id,
      via: approver.via,
      escalationId,
      agentId: record.decision.agentId,
      agentName: record.decision.agentName,
      action: record.decision.action,
      ...(record.decision.target !== undefined ? { target: record.decision.target } : {}),
    };
    void this.audit.write({
      type: "answer",
      ...base,
      answer: answer.approve ? "approve" : "deny",
      ...(answer.reason ? { reason: answer.reason } : {}),
      decision,
    });
    const ev: WebhookEvent = {
      type: "escalation.answered",
      at: base.at,
      escalationId,
      agent: record.request.agent,
      action: base.action,
      answer: answer.approve ? "approve" : "deny",
      approver: approver.id,
    };
    if (base.target !== undefined) ev.target = base.target;
    const url = this.#link();
    if (url) ev.url = url;
    this.#webhooks?.send(ev);
    const out: AnswerResult = { status: 200, decision };
    if (g !== undefined && decision.type === "allow") {
      const match = grantMatchOf(record);
      const grant: Grant = {
        id: globalThis.crypto.randomUUID(),
        ...match,
        agentName: record.decision.agentName,
        approvedBy: approver.id,
        via: approver.via,
        escalationId,
        createdAt: now,
        expiresAt: now + g.ttlMs,
      };
      if (g.uses !== undefined) grant.usesLeft = g.uses;
      try {
        await this.grants!.createGrant(grant);
        out.grant = grant;
        void this.audit.write({
          type: "grant",
          ...base,
          grantId: grant.id,
          expiresAt: new Date(grant.expiresAt).toISOString(),
        });
        this.#webhooks?.send({ ...ev, type: "grant.created", grantId: grant.id });
      } catch (error) {
        out.grantError = `the call is approved, but the grant could not be stored: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    void this.refresh().catch(() => {});
    return out;
  }

  async listGrants(): Promise<Grant[]> {
    return this.grants ? this.grants.listGrants(Date.now()) : [];
  }

  async revoke(approver: Approver, grantId: string): Promise<Grant | undefined> {
    if (!this.grants || typeof grantId !== "string" || grantId.length > 200) return undefined;
    const g = await this.grants.revokeGrant(grantId);
    if (!g) return undefined;
    const at = new Date().toISOString();
    void this.audit.write({
      type: "revoke",
      at,
      approver: approver.id,
      via: approver.via,
      grantId,
      agentId: g.agentId,
      ...(g.agentName ? { agentName: g.agentName } : {}),
      action: g.action,
      target: g.target,
    });
    this.#webhooks?.send({
      type: "grant.revoked",
      at,
      grantId,
      action: g.action,
      target: g.target,
      approver: approver.id,
    });
    return g;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }
}
