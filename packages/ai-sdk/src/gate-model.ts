import { admitModelCall } from "@agentgate/core/internal";
import type { GateKeeper } from "@agentgate/core";
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
 * calls). A refused call throws `ModelCallDeniedError` (a `PermissionDeniedError`) before the provider is
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
    const info: GateModelCallInfo = { modelId: String(model?.modelId ?? ""), provider: String(model?.provider), type };
    const context = options.context && (() => options.context!(info));
    await admitModelCall(gate, info.modelId !== "" ? info.modelId : undefined, context);
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
