import type { Decision } from "../gate/decision.js";
import { AgentGateError } from "./agent-gate-error.js";

const marker = "agentgate.error.PermissionDeniedError";
const symbol = Symbol.for(marker);

/** Thrown by `gate.require()` (and adapters) when a decision is not ALLOW. */
export class PermissionDeniedError extends AgentGateError {
  private readonly [symbol] = true;
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
    return AgentGateError.hasMarker(error, marker);
  }
}
