const marker = "agentgate.error";
const symbol = Symbol.for(marker);

/** Stable machine-readable error codes. */
export type AgentGateErrorCode =
  | "AGENTGATE_PERMISSION_DENIED"
  | "AGENTGATE_POLICY_INVALID"
  | "AGENTGATE_ESCALATION_UNKNOWN"
  | "AGENTGATE_ESCALATION_SETTLED"
  | "AGENTGATE_STORE_UNAVAILABLE"
  | "AGENTGATE_IDENTITY_INVALID"
  | "AGENTGATE_AUDIT_LOG"
  | "AGENTGATE_APPROVAL_TIMEOUT"
  | "AGENTGATE_CHECKPOINTER_REQUIRED"
  | "AGENTGATE_ESCALATION_LIMIT";

/**
 * Base class of every AgentGate error. `isInstance` works across duplicate
 * installs because it checks a `Symbol.for` marker, not the prototype chain;
 * each subclass adds its own marker (`agentgate.error.<Name>`).
 */
export class AgentGateError extends Error {
  private readonly [symbol] = true;
  readonly code: AgentGateErrorCode;

  constructor(code: AgentGateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentGateError";
    this.code = code;
  }

  static isInstance(error: unknown): error is AgentGateError {
    return AgentGateError.hasMarker(error, marker);
  }

  /** True when `error` carries the `Symbol.for(marker)` flag a class sets on its instances. */
  protected static hasMarker(error: unknown, marker: string): boolean {
    const flag = Symbol.for(marker);
    return (
      typeof error === "object" && error !== null && flag in error && (error as Record<symbol, unknown>)[flag] === true
    );
  }
}
