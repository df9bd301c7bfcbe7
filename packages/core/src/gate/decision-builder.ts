import type { DecisionType } from "../action.js";
import type { AgentIdentity } from "../identity/agent-identity.js";
import type { Evaluation } from "../policy/permission-policy.js";
import { decisionShape, makeDecision, type Decision, type DecisionCode } from "./decision.js";
import { DecisionIds } from "./decision-ids.js";
import type { CheckRequest } from "./tool-call.js";

/** What varies between a gate's decisions; agent and policy come from the gate unless given. */
export interface DecisionFields {
  id: string;
  type: DecisionType;
  code: DecisionCode;
  action: string;
  target: string | undefined;
  reason: string;
  timestamp: string;
  callId: string | undefined;
  escalationId?: string | undefined;
  approvedBy?: string | undefined;
  retryAfterMs?: number | undefined;
  mode?: "local-fallback" | undefined;
  /** An escalation settled here may have been raised by another process: keep its agent and policy. */
  agent?: { id: string; name: string };
  policy?: string;
}

/** The one place a gate makes its Decisions. */
export class DecisionBuilder {
  readonly ids: DecisionIds;
  readonly #identity: AgentIdentity;
  readonly #policy: string;
  #isoMs = Number.NaN;
  #isoText = "";

  /** `publishIds`: the gate has audit sinks (see `lastDecisionId`). */
  constructor(identity: AgentIdentity, policyName: string, publishIds = false) {
    this.ids = new DecisionIds(publishIds);
    this.#identity = identity;
    this.#policy = policyName;
  }

  make(f: DecisionFields): Decision {
    return makeDecision({
      id: f.id,
      type: f.type,
      code: f.code,
      agentId: f.agent ? f.agent.id : this.#identity.id,
      agentName: f.agent ? f.agent.name : this.#identity.name,
      action: f.action,
      target: f.target,
      reason: f.reason,
      timestamp: f.timestamp,
      policy: f.policy ?? this.#policy,
      approvedBy: f.approvedBy,
      callId: f.callId,
      escalationId: f.escalationId,
      retryAfterMs: f.retryAfterMs,
      mode: f.mode,
    });
  }

  /** The policy's own verdict, for checks no limit or record touches. */
  fromPolicy(request: CheckRequest, verdict: Evaluation, now: number): Decision {
    // The hot path: no fields object at all.
    return this.simple(
      this.ids.next(),
      verdict.type,
      verdict.code,
      request.action,
      verdict.target,
      verdict.reason,
      this.iso(now),
      request.callId,
    );
  }

  /** A decision of this gate's agent and policy without approval, escalation, retry or mode fields. */
  simple(
    id: string,
    type: DecisionType,
    code: DecisionCode,
    action: string,
    target: string | undefined,
    reason: string,
    timestamp: string,
    callId: string | undefined,
  ): Decision {
    const identity = this.#identity;
    const policy = this.#policy;
    return Object.freeze(
      decisionShape(id, type, code, identity.id, identity.name, action, target, reason, timestamp, policy, callId),
    );
  }

  /** A DENY for a failure of the gate's own machinery (never an ALLOW). */
  refusal(request: CheckRequest, code: DecisionCode, reason: string, now: number, escalationId?: string): Decision {
    return this.make({
      id: globalThis.crypto.randomUUID(),
      type: "deny",
      code,
      action: request.action,
      target: request.target,
      reason,
      timestamp: new Date(now).toISOString(),
      callId: request.callId,
      escalationId,
    });
  }

  /** ISO timestamps, cached per millisecond: many checks share one. */
  iso(ms: number): string {
    if (ms !== this.#isoMs) {
      this.#isoMs = ms;
      this.#isoText = new Date(ms).toISOString();
    }
    return this.#isoText;
  }
}
