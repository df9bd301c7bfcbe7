import { PermissionDeniedError, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { checkWithoutPause } from "@agentgate/core/internal";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { contextOf, requireGate } from "./context.js";
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

/** What LangChain passes when a model starts: chat models and plain LLMs alike. */
type ModelStart = [
  llm: Serialized,
  input: unknown,
  runId: string,
  parentRunId?: string,
  extraParams?: Record<string, unknown>,
  tags?: string[],
  metadata?: Record<string, unknown>,
];

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
 * A callback can only block by throwing, and only because this handler is
 * built with `raiseError: true` (which also makes LangChain await it). LangChain's
 * callback manager logs every error a handler throws (`console.error` with
 * `raiseError`, `console.warn` without) before rethrowing it, and a handler gets
 * a copy of the input it cannot change, so each block also logs
 * "Error in handler GateCallbackHandler, handleToolStart: ..."; `gateTools` and
 * `gateMiddleware` refuse a call without an error. In `createAgent` the thrown
 * error carries LangChain's `ToolInvocationError` brand, so the model reads only
 * the gate's reason. An escalation cannot wait inside a callback: without an
 * approval handler on the gate it blocks, and the escalation stays pending
 * until `gate.resolveEscalation`; a retry of the same tool call id then gets
 * the settled decision.
 */
export class GateCallbackHandler extends BaseCallbackHandler {
  name = "AgentGateCallbackHandler";
  readonly #gate: GateKeeper;
  readonly #options: GateCallbackHandlerOptions;

  constructor(gate: GateKeeper, options: GateCallbackHandlerOptions = {}) {
    // Only a handler constructed with raiseError can stop a run: LangChain reads
    // it in the base constructor to decide whether to await the handler and
    // rethrow its errors. Assigning it later as a class field does nothing.
    super({ raiseError: true, ignoreLLM: options.modelCalls === false, ignoreAgent: options.toolCalls === false });
    requireGate(gate, "GateCallbackHandler");
    this.#gate = gate;
    this.#options = options;
  }

  /** LangChain's default copy passes the handler itself to the constructor. */
  override copy(): GateCallbackHandler {
    return new GateCallbackHandler(this.#gate, this.#options);
  }

  override async handleToolStart(
    _tool: Serialized,
    input: string,
    _runId: string,
    _parentRunId?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): Promise<void> {
    const callId = typeof toolCallId === "string" && toolCallId !== "" ? toolCallId : undefined;
    // LangChain passes the tool's name as the run name; the serialised tool only names its class.
    const decision =
      typeof runName === "string" && runName !== ""
        ? await this.#gate.checkToolCall({
            toolName: runName,
            input: parseToolInput(input),
            callId,
            mapping: this.#options.mapping,
            context: contextOf(this.#options.context, metadata?.thread_id),
          })
        : this.#gate.refuse(
            "tool_use",
            "GateCallbackHandler could not tell which tool is starting (no run name); use gateTools or gateMiddleware for this tool",
            callId === undefined ? {} : { callId },
          );
    if (decision.type !== "allow") throw toolBlock(decision);
  }

  override handleChatModelStart(...start: ModelStart): Promise<void> {
    return this.#checkModel(start);
  }

  override handleLLMStart(...start: ModelStart): Promise<void> {
    return this.#checkModel(start);
  }

  async #checkModel([llm, , , , extraParams, , metadata]: ModelStart): Promise<void> {
    const target = modelNameFromCallback(llm, extraParams, metadata);
    const context = contextOf(this.#options.context, metadata?.thread_id);
    const why = "model calls cannot wait for approval in a callback (give the GateKeeper an approvalHandler)";
    const decision = await checkWithoutPause(this.#gate, "llm_call", { target, context }, why);
    if (decision.type !== "allow") throw new PermissionDeniedError(decision);
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

/**
 * The error a blocked tool throws. It carries LangChain's `ToolInvocationError`
 * brand, which `createAgent`'s tool node reads to pass `error.message` to the
 * model as is, so the model reads the gate's reason and nothing appended.
 */
function toolBlock(decision: Decision): PermissionDeniedError {
  const error = new PermissionDeniedError(decision);
  Object.defineProperty(error, "~brand", { value: "ToolInvocationError", enumerable: false });
  return error;
}
