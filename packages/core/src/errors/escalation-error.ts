import { AgentGateError } from "./agent-gate-error.js";

const marker = "agentgate.error.EscalationError";
const symbol = Symbol.for(marker);

/** `resolveEscalation` was given an unknown or already settled escalation id. */
export class EscalationError extends AgentGateError {
  private readonly [symbol] = true;
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
    return AgentGateError.hasMarker(error, marker);
  }
}
