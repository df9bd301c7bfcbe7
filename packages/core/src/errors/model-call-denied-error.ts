import type { Decision } from "../gate/decision.js";
import { AgentGateError } from "./agent-gate-error.js";
import { PermissionDeniedError } from "./permission-denied-error.js";

const marker = "agentgate.error.ModelCallDeniedError";
const symbol = Symbol.for(marker);

/**
 * Thrown before a model request leaves the process when the gate does not
 * allow it as an `llm_call` (e.g. `max_per_minute` reached). `retryAfterMs`
 * says when the next call can pass; `model` is the target the gate saw.
 */
export class ModelCallDeniedError extends PermissionDeniedError {
  private readonly [symbol] = true;
  /** The model name checked as the `llm_call` target (undefined when the request named none). */
  readonly model: string | undefined;

  constructor(decision: Decision, model: string | undefined) {
    super(decision);
    this.name = "ModelCallDeniedError";
    this.model = model;
  }

  static override isInstance(error: unknown): error is ModelCallDeniedError {
    return AgentGateError.hasMarker(error, marker);
  }
}
