import type { Decision } from "./gate/decision.js";

const MARKER = Symbol.for("agentgate.error");

/** Stable machine-readable error codes. */
export type AgentGateErrorCode =
  | "AGENTGATE_PERMISSION_DENIED"
  | "AGENTGATE_POLICY_INVALID"
  | "AGENTGATE_ESCALATION_UNKNOWN"
  | "AGENTGATE_ESCALATION_SETTLED"
  | "AGENTGATE_STORE_UNAVAILABLE"
  | "AGENTGATE_IDENTITY_INVALID"
  | "AGENTGATE_AUDIT_LOG"
  | "AGENTGATE_APPROVAL_TIMEOUT";

/**
 * Base class of every AgentGate error. `isInstance` works across duplicate
 * installs because it checks a `Symbol.for` marker, not the prototype chain.
 */
export class AgentGateError extends Error {
  readonly [MARKER] = true;
  readonly code: AgentGateErrorCode;

  constructor(code: AgentGateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentGateError";
    this.code = code;
  }

  static isInstance(error: unknown): error is AgentGateError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

function hasCode<T>(error: unknown, code: AgentGateErrorCode): error is T {
  return AgentGateError.isInstance(error) && error.code === code;
}

/** Thrown by `gate.require()` (and adapters) when a decision is not ALLOW. */
export class PermissionDeniedError extends AgentGateError {
  readonly decision: Decision;

  constructor(decision: Decision) {
    super("AGENTGATE_PERMISSION_DENIED", `AgentGate ${decision.type}: ${decision.reason}`);
    this.name = "PermissionDeniedError";
    this.decision = decision;
  }

  /** Why the action was refused. */
  get reason(): string {
    return this.decision.reason;
  }

  /** For rate limits: how long to wait before the next attempt can pass. */
  get retryAfterMs(): number | undefined {
    return this.decision.retryAfterMs;
  }

  static override isInstance(error: unknown): error is PermissionDeniedError {
    return hasCode(error, "AGENTGATE_PERMISSION_DENIED");
  }
}

/** One problem found in a policy. `line` is 1-based, present for YAML input. */
export interface PolicyIssue {
  /** Where, e.g. `rules[2].max_per_minute`. */
  path: string;
  message: string;
  line?: number;
}

/** A policy failed validation. Lists every problem; nothing is half-loaded. */
export class PolicyValidationError extends AgentGateError {
  readonly issues: readonly PolicyIssue[];
  /** The file the policy came from, when loaded with `fromYaml`. */
  readonly source: string | undefined;

  constructor(issues: readonly PolicyIssue[], source?: string) {
    const where = source ? ` in ${source}` : "";
    const lines = issues.map(
      (i) => `  - ${i.line !== undefined ? `line ${i.line}: ` : ""}${i.path || "(root)"}: ${i.message}`,
    );
    super(
      "AGENTGATE_POLICY_INVALID",
      `Invalid policy${where} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "PolicyValidationError";
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
    this.source = source;
  }

  static override isInstance(error: unknown): error is PolicyValidationError {
    return hasCode(error, "AGENTGATE_POLICY_INVALID");
  }
}

/** `resolveEscalation` was given an unknown or already settled escalation id. */
export class EscalationError extends AgentGateError {
  readonly escalationId: string;

  constructor(
    code: "AGENTGATE_ESCALATION_UNKNOWN" | "AGENTGATE_ESCALATION_SETTLED",
    escalationId: string,
    message: string,
  ) {
    super(code, message);
    this.name = "EscalationError";
    this.escalationId = escalationId;
  }

  static override isInstance(error: unknown): error is EscalationError {
    return (
      hasCode(error, "AGENTGATE_ESCALATION_UNKNOWN") || hasCode(error, "AGENTGATE_ESCALATION_SETTLED")
    );
  }
}

/** A state store could not answer. The gate turns it into a DENY. */
export class StoreUnavailableError extends AgentGateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("AGENTGATE_STORE_UNAVAILABLE", message, options);
    this.name = "StoreUnavailableError";
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return hasCode(error, "AGENTGATE_STORE_UNAVAILABLE");
  }
}
