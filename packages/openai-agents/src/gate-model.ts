import { PermissionDeniedError, type GateKeeper } from "@agentgate/core";
import { admitModelCall, assertGateKeeper } from "@agentgate/core/internal";
import type {
  Model,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ModelRetryAdvice,
  ModelRetryAdviceRequest,
  StreamEvent,
} from "@openai/agents-core";

/** Options for {@link gateModel}. */
export interface GateModelOptions {
  /**
   * The model name the policy sees as the `llm_call` target. Defaults to the name the model instance carries
   * (`OpenAIResponsesModel` and `OpenAIChatCompletionsModel` do), else no target, which a policy with
   * `allowed_targets` for `llm_call` denies.
   */
  modelName?: string;
}

/**
 * Wraps a `Model` so each request is first checked as an `llm_call` with the model name as target. Anything but
 * ALLOW throws a `PermissionDeniedError` (`.reason`, `.retryAfterMs`, `.decision`) before the provider is
 * called; the run rejects with it. A model request cannot pause for a human, so an ESCALATE without an inline
 * approval handler is refused the same way.
 */
export function gateModel(model: Model, gate: GateKeeper, options: GateModelOptions = {}): Model {
  if (!model || typeof model.getResponse !== "function") throw new TypeError("gateModel: `model` must be a Model");
  assertGateKeeper(gate, "gateModel");
  const target = options.modelName ?? modelNameOf(model);
  const admit = () => admitModelCall(gate, target);

  const gated: Model = {
    async getResponse(request: ModelRequest): Promise<ModelResponse> {
      await admit();
      return model.getResponse(request);
    },
    async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
      await admit();
      yield* model.getStreamedResponse(request);
    },
    async getRetryAdvice(args: ModelRetryAdviceRequest): Promise<ModelRetryAdvice | undefined> {
      if (PermissionDeniedError.isInstance(args.error)) {
        // Nothing reached the provider; the gate, not the transport, said no.
        const denied = args.error as PermissionDeniedError;
        return {
          suggested: false,
          replaySafety: "safe",
          reason: `AgentGate: ${denied.reason}`,
          ...(denied.retryAfterMs !== undefined ? { retryAfterMs: denied.retryAfterMs } : {}),
        };
      }
      return model.getRetryAdvice ? model.getRetryAdvice(args) : undefined;
    },
  };
  const { supportsPromptModelSelection } = model;
  return supportsPromptModelSelection === undefined ? gated : { ...gated, supportsPromptModelSelection };
}

/**
 * Wraps a `ModelProvider` (e.g. `new OpenAIProvider()`) so every model it hands out is gated with
 * {@link gateModel}, the requested name as target. Pass it as `new Runner({ modelProvider })`.
 */
export function gateModelProvider(provider: ModelProvider, gate: GateKeeper): ModelProvider {
  if (!provider || typeof provider.getModel !== "function") {
    throw new TypeError("gateModelProvider: `provider` must be a ModelProvider");
  }
  return {
    async getModel(modelName?: string): Promise<Model> {
      const model = await provider.getModel(modelName);
      const name = modelNameOf(model) ?? modelName;
      return gateModel(model, gate, name === undefined ? {} : { modelName: name });
    },
  };
}

/** The name a model instance carries, if it exposes one. */
function modelNameOf(model: Model): string | undefined {
  const candidate = model as unknown as { _model?: unknown; model?: unknown; modelName?: unknown; name?: unknown };
  for (const value of [candidate._model, candidate.modelName, candidate.model]) {
    if (typeof value === "string" && value.length > 0) return value;
  }
  return undefined;
}
