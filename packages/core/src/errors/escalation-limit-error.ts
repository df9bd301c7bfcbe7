import { AgentGateError } from "./agent-gate-error.js";

const marker = "agentgate.error.EscalationLimitError";
const symbol = Symbol.for(marker);

/**
 * A store refused to record another pending escalation: the agent already has
 * as many as the store allows (e.g. `RedisStore`'s `maxPendingEscalations`).
 * The gate turns it into a DENY with code `escalation_limit`.
 */
export class EscalationLimitError extends AgentGateError {
  private readonly [symbol] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super("AGENTGATE_ESCALATION_LIMIT", message, options);
    this.name = "EscalationLimitError";
  }

  static override isInstance(error: unknown): error is EscalationLimitError {
    return AgentGateError.hasMarker(error, marker);
  }
}
