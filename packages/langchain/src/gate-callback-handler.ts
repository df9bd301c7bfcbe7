import { errorText } from "@agentgate/core/internal";
import { PermissionDeniedError, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import { adapterDenial } from "./denial.js";
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
 * A callback can only block because this handler is built with
 * `raiseError: true` (which also makes LangChain await it). A denied tool's
 * function never runs; what the caller sees is the thrown error, so with
 * `createAgent` prefer `gateMiddleware`, which turns a denial into a message
 * the model can read. An escalation cannot wait inside a callback: without an
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
    if (!gate || typeof (gate as Partial<GateKeeper>).checkToolCall !== "function") {
      throw new TypeError("GateCallbackHandler needs a GateKeeper");
    }
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
    // LangChain passes the tool's name as the run name; the serialised tool only names its class.
    const toolName = typeof runName === "string" ? runName : "";
    const callId = typeof toolCallId === "string" && toolCallId !== "" ? toolCallId : undefined;
    let decision: Decision;
    if (toolName === "") {
      decision = adapterDenial(
        this.#gate,
        { action: "tool_use", callId },
        "GateCallbackHandler could not tell which tool is starting (no run name); use gateTools or gateMiddleware for this tool",
      );
    } else {
      // Never rejects: every failure comes back as an audited DENY.
      decision = await this.#gate.checkToolCall({
        toolName,
        input: parseToolInput(input),
        callId,
        mapping: this.#options.mapping,
        context: this.#context(metadata),
      });
    }
    if (decision.type !== "allow") throw toolBlock(decision);
  }

  override async handleChatModelStart(
    llm: Serialized,
    _messages: BaseMessage[][],
    _runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    await this.#checkModel(llm, extraParams, metadata);
  }

  override async handleLLMStart(
    llm: Serialized,
    _prompts: string[],
    _runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    await this.#checkModel(llm, extraParams, metadata);
  }

  async #checkModel(
    llm: Serialized,
    extraParams?: Record<string, unknown>,
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    let target = "unknown";
    let decision: Decision;
    try {
      target = modelNameFromCallback(llm, extraParams, metadata);
      decision = await this.#gate.check("llm_call", { target, context: this.#context(metadata) });
    } catch (error) {
      decision = adapterDenial(
        this.#gate,
        { action: "llm_call", target },
        `AgentGate could not check the model call: ${errorText(error)}`,
      );
    }
    if (decision.type !== "allow") throw new PermissionDeniedError(decision);
  }

  #context(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
    const context: Record<string, unknown> = { framework: "langchain", ...this.#options.context };
    const thread = metadata?.thread_id;
    if (typeof thread === "string") context.threadId = thread;
    return context;
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
