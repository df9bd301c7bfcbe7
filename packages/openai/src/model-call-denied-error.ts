import { PermissionDeniedError, type Decision } from "@agentgate/core";

const MARKER = Symbol.for("agentgate.openai.model-call-denied");

/**
 * Thrown before a model request leaves the process when the gate does not
 * allow it as an `llm_call` (e.g. `max_per_minute` reached). `retryAfterMs`
 * says when the next call can pass; `model` is the target the gate saw.
 */
export class ModelCallDeniedError extends PermissionDeniedError {
  readonly [MARKER] = true;
  /** The model name checked as the `llm_call` target (undefined when the request named none). */
  readonly model: string | undefined;

  constructor(decision: Decision, model: string | undefined) {
    super(decision);
    this.name = "ModelCallDeniedError";
    this.model = model;
  }

  static override isInstance(error: unknown): error is ModelCallDeniedError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}
