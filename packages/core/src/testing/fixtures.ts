import type { ApprovalRequest } from "../gate/approval.js";
import { makeDecision, type Decision } from "../gate/decision.js";
import type { ConsumeRequest, EscalationRecord } from "../gate/store.js";

/** A fresh counter scope, so cases never share state even on one shared backend. */
export interface Scope {
  policy: string;
  agentId: string;
  action: string;
}

export function freshScope(action = "tool_use"): Scope {
  return { policy: `conformance-${globalThis.crypto.randomUUID()}`, agentId: globalThis.crypto.randomUUID(), action };
}

/** The flat key, built the way `GateKeeper` builds it. */
export function counterKey(s: Scope): string {
  return `${encodeURIComponent(s.policy)}:${s.agentId}:${encodeURIComponent(s.action)}`;
}

export function callKey(s: Scope, callId: string): string {
  return `${encodeURIComponent(s.policy)}:${s.agentId}:call:${encodeURIComponent(callId)}`;
}

export interface RequestOptions {
  maxPerMinute?: number;
  denyAfter?: number;
  escalateAfter?: number;
  escalate?: boolean;
  call?: { id: string; fingerprint: string; ttlMs?: number; execute?: boolean; runTtlMs?: number };
  decisionId?: string;
  escalationId?: string;
}

export const WINDOW_MS = 60_000;

/** A consume request for `scope` at `now`, with fresh ids. */
export function consumeRequest(s: Scope, now: number, o: RequestOptions = {}): ConsumeRequest {
  const req: ConsumeRequest = {
    scope: { policy: s.policy, agentId: s.agentId, action: s.action },
    key: counterKey(s),
    now,
    windowMs: WINDOW_MS,
    escalate: o.escalate ?? false,
    decisionId: o.decisionId ?? globalThis.crypto.randomUUID(),
    escalationId: o.escalationId ?? globalThis.crypto.randomUUID(),
  };
  if (o.maxPerMinute !== undefined) req.maxPerMinute = o.maxPerMinute;
  if (o.denyAfter !== undefined) req.denyAfter = o.denyAfter;
  if (o.escalateAfter !== undefined) req.escalateAfter = o.escalateAfter;
  if (o.call) {
    req.call = { key: callKey(s, o.call.id), fingerprint: o.call.fingerprint, ttlMs: o.call.ttlMs ?? 3_600_000 };
    if (o.call.execute) req.call.execute = true;
    if (o.call.runTtlMs !== undefined) req.call.runTtlMs = o.call.runTtlMs;
  }
  return req;
}

/** A pending escalation record for the reservation `req` made, as `GateKeeper` writes it. */
export function escalationRecord(req: ConsumeRequest, ttlMs = 3_600_000): EscalationRecord {
  const decision = makeDecision({
    id: req.decisionId,
    type: "escalate",
    code: "require_approval",
    agentId: req.scope.agentId,
    agentName: "conformance-bot",
    action: req.scope.action,
    target: "deploy",
    reason: `rule "${req.scope.action}": a human must approve`,
    timestamp: new Date(req.now).toISOString(),
    policy: req.scope.policy,
    escalationId: req.escalationId,
    callId: req.call ? "call" : undefined,
  });
  const request: ApprovalRequest = {
    escalationId: req.escalationId,
    agent: { id: req.scope.agentId, name: "conformance-bot" },
    action: req.scope.action,
    target: "deploy",
    args: { env: "prod", replicas: 3, note: "ünïcödé ✓" },
    reason: decision.reason,
  };
  const record: EscalationRecord = {
    escalationId: req.escalationId,
    status: "pending",
    request,
    decision,
    reservation: { key: req.key, scope: req.scope, member: req.decisionId, at: req.now },
    createdAt: req.now,
    expiresAt: req.now + ttlMs,
  };
  if (req.call) {
    record.callKey = req.call.key;
    request.callId = "call";
  }
  return record;
}

/** The decision a settle stores. */
export function settledDecision(record: EscalationRecord, approved: boolean, now: number): Decision {
  const base = record.decision;
  return makeDecision({
    id: globalThis.crypto.randomUUID(),
    type: approved ? "allow" : "deny",
    code: approved ? "approved" : "approval_denied",
    agentId: base.agentId,
    agentName: base.agentName,
    action: base.action,
    target: base.target,
    reason: approved ? `approved by alice: ${base.reason}` : "a human denied it",
    timestamp: new Date(now).toISOString(),
    policy: base.policy,
    approvedBy: approved ? "alice" : undefined,
    callId: base.callId,
    escalationId: record.escalationId,
  });
}
