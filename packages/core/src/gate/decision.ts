import type { DecisionType } from "../action.js";
import type { PolicyCode } from "../policy/permission-policy.js";

/** Why a decision came out as it did: the policy's static codes plus the gate's own. */
export type DecisionCode =
  | PolicyCode
  | "deny_after"
  | "rate_limit"
  | "escalate_after"
  | "approved"
  | "granted"
  | "approval_denied"
  | "approval_timeout"
  | "approval_error"
  | "approval_expired"
  | "self_approval"
  | "approval_superseded"
  | "call_mismatch"
  | "call_replayed"
  | "invalid_input"
  | "store_unavailable"
  | "internal_error"
  | "escalation_limit";

/** One gate decision: frozen, JSON-serialisable, and recorded in the audit. */
export interface Decision {
  readonly id: string;
  readonly type: DecisionType;
  /** Machine-readable cause; `reason` says the same in words. */
  readonly code: DecisionCode;
  readonly agentId: string;
  readonly agentName: string;
  readonly action: string;
  /** The target as matched, after normalisation. */
  readonly target?: string;
  readonly reason: string;
  /** ISO 8601, UTC. */
  readonly timestamp: string;
  readonly approvedBy?: string;
  readonly callId?: string;
  readonly escalationId?: string;
  /** The grant that allowed it (code `granted`). */
  readonly grantId?: string;
  readonly retryAfterMs?: number;
  /** The policy's name. */
  readonly policy: string;
  /** Set when a store fell back to in-process limits: which mode decided. */
  readonly mode?: "local-fallback";
}

/** A Decision's fields in the order a decision holds them (JSON, `Object.keys` and spreads show them so). */
export const DECISION_FIELDS = [
  "id",
  "type",
  "code",
  "agentId",
  "agentName",
  "action",
  "reason",
  "timestamp",
  "policy",
  "target",
  "approvedBy",
  "callId",
  "escalationId",
  "grantId",
  "retryAfterMs",
  "mode",
] as const;

/** Longest `target` a decision keeps (normalised targets are never longer); `reason` gets a little more room. */
const MAX_TARGET = 8192;
const MAX_REASON = 16384;

/** Keeps the start of an oversized string and says how long it was: the audit never holds megabytes of model output. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // join() builds a fresh string: a plain slice would keep the megabyte it came from alive.
  return `${Array.from(text.slice(0, 256)).join("")}… [${text.length} characters, clipped]`;
}

/**
 * Builds a frozen decision; optional fields are omitted, not `undefined`, so JSON round-trips exactly.
 * An oversized `target` or `reason` (a refused 1 MB target, an error message quoting the input) is clipped.
 */
export function makeDecision(fields: {
  id: string;
  type: DecisionType;
  code: DecisionCode;
  agentId: string;
  agentName: string;
  action: string;
  target: string | undefined;
  reason: string;
  timestamp: string;
  policy: string;
  approvedBy?: string | undefined;
  callId?: string | undefined;
  escalationId?: string | undefined;
  grantId?: string | undefined;
  retryAfterMs?: number | undefined;
  mode?: "local-fallback" | undefined;
}): Decision {
  if (
    fields.approvedBy === undefined &&
    fields.escalationId === undefined &&
    fields.grantId === undefined &&
    fields.retryAfterMs === undefined &&
    fields.mode === undefined
  ) {
    const { id, type, code, agentId, agentName, action, target, reason, timestamp, policy, callId } = fields;
    return Object.freeze(
      decisionShape(id, type, code, agentId, agentName, action, target, reason, timestamp, policy, callId),
    );
  }
  // callId is added after approvedBy: the field order stays the one documented above.
  const { id, type, code, agentId, agentName, action, target, reason, timestamp, policy } = fields;
  const d = decisionShape(id, type, code, agentId, agentName, action, target, reason, timestamp, policy, undefined);
  if (fields.approvedBy !== undefined) d.approvedBy = fields.approvedBy;
  if (fields.callId !== undefined) d.callId = fields.callId;
  if (fields.escalationId !== undefined) d.escalationId = fields.escalationId;
  if (fields.grantId !== undefined) d.grantId = fields.grantId;
  if (fields.retryAfterMs !== undefined) d.retryAfterMs = fields.retryAfterMs;
  if (fields.mode !== undefined) d.mode = fields.mode;
  return Object.freeze(d);
}

type Mutable = { -readonly [K in keyof Decision]: Decision[K] };

/**
 * A decision with no approval, escalation, grant, retry or mode fields (what most checks make),
 * not yet frozen. Positional, and one object literal per shape (the fields in `makeDecision`'s
 * order, each in the object itself), so a decision is one allocation, not a fields object plus a
 * decision plus a property store for what did not fit (issue 19: GC was a fifth of `gate.check`).
 */
export function decisionShape(
  id: string,
  type: DecisionType,
  code: DecisionCode,
  agentId: string,
  agentName: string,
  action: string,
  target: string | undefined,
  reason: string,
  timestamp: string,
  policy: string,
  callId: string | undefined,
): Mutable {
  reason = clip(reason, MAX_REASON);
  if (target === undefined) {
    return callId === undefined
      ? { id, type, code, agentId, agentName, action, reason, timestamp, policy }
      : { id, type, code, agentId, agentName, action, reason, timestamp, policy, callId };
  }
  target = clip(target, MAX_TARGET);
  return callId === undefined
    ? { id, type, code, agentId, agentName, action, reason, timestamp, policy, target }
    : { id, type, code, agentId, agentName, action, reason, timestamp, policy, target, callId };
}

/** Checks that a value has the shape of a Decision (for data read back from a store). */
export function isDecision(value: unknown): value is Decision {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d.id === "string" &&
    (d.type === "allow" || d.type === "deny" || d.type === "escalate") &&
    typeof d.code === "string" &&
    typeof d.agentId === "string" &&
    typeof d.action === "string" &&
    typeof d.reason === "string" &&
    typeof d.timestamp === "string" &&
    typeof d.policy === "string"
  );
}
