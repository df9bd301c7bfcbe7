import { PermissionDeniedError, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { admitModelCall, assertGateKeeper } from "@agentgate/core/internal";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { contextOf } from "./context.js";
import { modelNameFromCallback } from "./model-name.js";

/** Options for {@link GateCallbackHandler}. */
export interface GateCallbackHandlerOptions {
  /** Maps tool names to actions and targets, as in `gate.checkToolCall`. */
  mapping?: ToolMapping;
  /** Check every tool call (default `true`); `false` when the tools are already wrapped with `gateTools`. */
  toolCalls?: boolean;
  /** Check `llm_call` before every model call (default `true`). */
  modelCalls?: boolean;
  /** Extra context recorded with each decision. */
  context?: Record<string, unknown>;
}

type ToolStart = Parameters<NonNullable<BaseCallbackHandler["handleToolStart"]>>;
type ChatModelStart = Parameters<NonNullable<BaseCallbackHandler["handleChatModelStart"]>>;
type LLMStart = Parameters<NonNullable<BaseCallbackHandler["handleLLMStart"]>>;

/**
 * Checks every tool call (`tool_use`, or the action `mapping` gives) and every
 * model call (`llm_call`, target: the model name) of any LangChain runnable
 * against the gate, and blocks the ones that are not allowed by throwing
 * `PermissionDeniedError` before they run.
 *
 * ```ts
 * await agent.invoke(input, { callbacks: [new GateCallbackHandler(gate)] });
 * ```
 *
 * A callback can block only by throwing, and only when built with `raiseError`
 * (which also makes LangChain await it). LangChain's callback manager logs every
 * error a handler throws, and a handler only sees a copy of the input, so each
 * block also logs "Error in handler GateCallbackHandler, ..." (`gateTools` and
 * `gateMiddleware` refuse without one). In `createAgent` the model reads only
 * the gate's reason (the error carries LangChain's `ToolInvocationError` brand).
 * An escalation cannot wait in a callback: it blocks and stays pending; after
 * `gate.resolveEscalation`, a retry of the same tool call id gets the answer.
 */
export class GateCallbackHandler extends BaseCallbackHandler {
  name = "AgentGateCallbackHandler";
  readonly #gate: GateKeeper;
  readonly #options: GateCallbackHandlerOptions;

  constructor(gate: GateKeeper, options: GateCallbackHandlerOptions = {}) {
    // LangChain reads raiseError in the base constructor (to await the handler and rethrow
    // its errors): set later, as a class field, it does nothing.
    super({ raiseError: true, ignoreLLM: options.modelCalls === false, ignoreAgent: options.toolCalls === false });
    assertGateKeeper(gate, "GateCallbackHandler");
    this.#gate = gate;
    this.#options = options;
  }

  /** LangChain's default copy passes the handler itself to the constructor. */
  override copy(): GateCallbackHandler {
    return new GateCallbackHandler(this.#gate, this.#options);
  }

  override async handleToolStart(...[, input, , , , metadata, runName, toolCallId]: ToolStart): Promise<void> {
    // LangChain passes the tool's name as the run name (the serialised tool only names its class);
    // without one, the gate refuses the call as unnamed.
    const decision = await this.#gate.checkToolCall({
      toolName: runName ?? "",
      input: parseToolInput(input),
      callId: toolCallId || undefined,
      mapping: this.#options.mapping,
      context: contextOf(this.#options.context, metadata?.thread_id),
    });
    if (decision.type === "allow") return;
    // Branded as LangChain's ToolInvocationError: `createAgent`'s tool node shows the model its message as is.
    throw Object.defineProperty(new PermissionDeniedError(decision), "~brand", { value: "ToolInvocationError" });
  }

  override handleChatModelStart(...[llm, , , , extraParams, , metadata]: ChatModelStart): Promise<void> {
    return this.#checkModel(llm, extraParams, metadata);
  }

  override handleLLMStart(...[llm, , , , extraParams, , metadata]: LLMStart): Promise<void> {
    return this.#checkModel(llm, extraParams, metadata);
  }

  async #checkModel(llm: Serialized, extraParams?: Record<string, unknown>, metadata?: Record<string, unknown>) {
    const target = modelNameFromCallback(llm, extraParams, metadata);
    const context = contextOf(this.#options.context, metadata?.thread_id);
    // Rejects with PermissionDeniedError unless allowed (a model call cannot wait for a human here).
    await admitModelCall(this.#gate, target, context);
  }
}

/** Callbacks receive the tool input as JSON text (or the raw string for string tools). */
function parseToolInput(input: unknown): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
