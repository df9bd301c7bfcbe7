import { errorText } from "../errors/error-text.js";
import { ModelCallDeniedError } from "../errors/model-call-denied-error.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";

/**
 * Checks a model call (`llm_call`, the model name as target) before a provider is called.
 * Resolves the ALLOW; anything else rejects with `ModelCallDeniedError` (a `PermissionDeniedError`). A model request
 * cannot pause for a human, so an ESCALATE without an inline approval handler is refused too.
 * `context` may be a callback, run at check time. A check or callback that fails is refused
 * (an audited DENY), never let through.
 */
export async function admitModelCall(
  gate: GateKeeper,
  target: string | undefined,
  context?: Record<string, unknown> | (() => MaybeContext | PromiseLike<MaybeContext>),
): Promise<Decision> {
  const where = target !== undefined ? { target } : {};
  // A context callback that throws is refused like a failed check: audited, never let through.
  const decision = await (async () => {
    const extra = typeof context === "function" ? await context() : context;
    return gate.check("llm_call", extra != null ? { ...where, context: extra } : where);
  })().catch((error: unknown) =>
    gate.refuse("llm_call", `AgentGate could not check the model call, so it was refused: ${errorText(error)}`, where),
  );
  if (decision.type !== "allow") throw new ModelCallDeniedError(decision, target);
  return decision;
}

type MaybeContext = Record<string, unknown> | undefined | null;
