import { Action } from "../action.js";
import { errorText } from "../errors/error-text.js";
import { ModelCallDeniedError } from "../errors/model-call-denied-error.js";
import type { Decision } from "./decision.js";
import type { GateKeeper } from "./gate-keeper.js";

/** Options of {@link gateModelCall}. */
export interface ModelCallOptions {
  /** Free-form context for sinks and observers (as in `gate.check`). */
  context?: Record<string, unknown> | undefined;
}

/**
 * Checks one model call as `llm_call`, the model name as target (none when undefined), so
 * `max_per_minute` on `llm_call` applies. Never rejects: a check that fails (store down,
 * a context that throws) is an audited refusal saying so. A model call cannot wait for a
 * human: ESCALATE stays ESCALATE unless the gate's `approvalHandler` answers inline.
 */
export async function gateModelCall(
  gate: GateKeeper,
  model: string | undefined,
  options: ModelCallOptions = {},
): Promise<Decision> {
  const target = model === undefined ? {} : { target: model };
  try {
    return await gate.check(
      Action.LLM_CALL,
      options.context === undefined ? target : { ...target, context: options.context },
    );
  } catch (error) {
    const reason = `AgentGate could not check the model call (${errorText(error)}), so it was refused`;
    return gate.refuse(Action.LLM_CALL, reason, target);
  }
}

/** {@link gateModelCall}, throwing a {@link ModelCallDeniedError} unless the gate allows the call. */
export async function requireModelCall(
  gate: GateKeeper,
  model: string | undefined,
  options?: ModelCallOptions,
): Promise<Decision> {
  const decision = await gateModelCall(gate, model, options);
  if (decision.type !== "allow") throw new ModelCallDeniedError(decision, model);
  return decision;
}
