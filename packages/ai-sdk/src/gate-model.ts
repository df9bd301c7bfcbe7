import { errorText } from "@agentgate/core/internal";
import { Action, DecisionType, PermissionDeniedError, type Decision, type GateKeeper } from "@agentgate/core";
import { wrapLanguageModel, type LanguageModelMiddleware } from "ai";

/** Any language model object `wrapLanguageModel` accepts (V2, V3 or V4 specification). */
export type GateableLanguageModel = Parameters<typeof wrapLanguageModel>[0]["model"];

/** The wrapped model (a V4 language model). */
export type GatedLanguageModel = ReturnType<typeof wrapLanguageModel>;

/** What {@link GateModelOptions.context} receives. */
export interface GateModelCallInfo {
  /** The wrapped model's id: the decision's target. */
  modelId: string;
  provider: string;
  /** `generate` for `doGenerate`, `stream` for `doStream`. */
  type: "generate" | "stream";
}

/** Options for {@link gateModel}. */
export interface GateModelOptions {
  /** Extra context for each decision. A throw fails closed. */
  context?: (
    info: GateModelCallInfo,
  ) => Record<string, unknown> | undefined | PromiseLike<Record<string, unknown> | undefined>;
}

/**
 * Wraps a language model so that every `doGenerate` / `doStream` is first checked as an
 * `llm_call` with the model id as target (so `max_per_minute` and friends apply to model
 * calls). A refused call throws {@link PermissionDeniedError} before the provider is
 * contacted: its message says why, and `retryAfterMs` is set for rate limits. The AI SDK
 * does not retry it, so the loop stops with that error.
 */
export function gateModel(
  model: GateableLanguageModel,
  gate: GateKeeper,
  options: GateModelOptions = {},
): GatedLanguageModel {
  return wrapLanguageModel({ model, middleware: gateModelMiddleware(gate, options) });
}

/**
 * The middleware behind {@link gateModel}, for composing with other middleware in one
 * `wrapLanguageModel` call.
 */
export function gateModelMiddleware(gate: GateKeeper, options: GateModelOptions = {}): LanguageModelMiddleware {
  const check = async (type: "generate" | "stream", model: { modelId: string; provider: string }): Promise<void> => {
    let decision: Decision;
    try {
      const info: GateModelCallInfo = { modelId: String(model.modelId), provider: String(model.provider), type };
      const context = options.context === undefined ? undefined : await options.context(info);
      decision = await gate.check(Action.LLM_CALL, {
        ...(info.modelId !== "" ? { target: info.modelId } : {}),
        ...(context != null ? { context } : {}),
      });
    } catch (error) {
      // Recorded by the gate (audited) and thrown as the same typed error a policy DENY is.
      const target = typeof model?.modelId === "string" && model.modelId !== "" ? { target: model.modelId } : {};
      const reason = `AgentGate could not check the model call (${errorText(error)}), so it is denied`;
      decision = gate.refuse(Action.LLM_CALL, reason, target);
    }
    if (decision.type !== DecisionType.ALLOW) throw new PermissionDeniedError(decision);
  };

  return {
    specificationVersion: "v4",
    wrapGenerate: async ({ doGenerate, model }) => {
      await check("generate", model);
      return doGenerate();
    },
    wrapStream: async ({ doStream, model }) => {
      await check("stream", model);
      return doStream();
    },
  };
}
