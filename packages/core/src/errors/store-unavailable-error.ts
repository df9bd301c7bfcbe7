import { AgentGateError } from "./agent-gate-error.js";

const marker = "agentgate.error.StoreUnavailableError";
const symbol = Symbol.for(marker);

/** A state store could not answer. The gate turns it into a DENY. */
export class StoreUnavailableError extends AgentGateError {
  private readonly [symbol] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super("AGENTGATE_STORE_UNAVAILABLE", message, options);
    this.name = "StoreUnavailableError";
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return AgentGateError.hasMarker(error, marker);
  }
}
