import { errorText } from "@agentgate/core/internal";
import { DecisionType, deniedToolResult, type GateKeeper, type ToolMapping } from "@agentgate/core";
import type { ToolExecutionOptions, ToolSet } from "ai";
import { resolveContext, type GateContextResolver } from "./context.js";
import { isGateDenial, type GateDeniedResult } from "./denial.js";

/** Options for {@link withGate}. */
export interface WithGateOptions {
  /**
   * Maps tool names to gate actions, e.g. `{ readFile: { action: "file_read", target: (i) => i.path } }`.
   * A tool without an entry is checked as `tool_use` with its name as target.
   */
  mapping?: ToolMapping;
  /** Extra context for each decision. A throw fails closed. */
  context?: GateContextResolver;
}

type AnyExecute = (input: unknown, options: ToolExecutionOptions<unknown>) => unknown;
type ToolLike = { execute?: unknown; toModelOutput?: unknown };

/**
 * Gates every tool of a ToolSet. Each tool's `execute` first asks the gate
 * (`checkToolCall`, with the AI SDK's `toolCallId` as `callId`, so a repeated
 * check of one call counts nothing):
 *
 * - ALLOW runs the original `execute`.
 * - DENY does not throw: the tool returns a {@link GateDeniedResult}
 *   (`{ denied: true, reason, retryAfterMs? }`) that the model can read and react to.
 * - ESCALATE waits for the gate's `approvalHandler`; without one it is a denial that
 *   says approval is required (use {@link gateToolApproval} for the SDK's approval flow).
 *
 * The result has the same keys and tool types. At runtime a denied call's output is a
 * `GateDeniedResult` instead of the tool's own output: check it with {@link isGateDenial}.
 * Tools without `execute` (client-side or provider-executed) are returned unchanged;
 * gate those with `gateToolApproval`. Async-generator tools keep streaming preliminary
 * results, properties are copied with their descriptors, and the abort signal is honoured
 * while waiting for the gate.
 */
export function withGate<TOOLS extends ToolSet>(tools: TOOLS, gate: GateKeeper, options: WithGateOptions = {}): TOOLS {
  return gateTools(tools, gate, options);
}

/**
 * {@link withGate} under the name every AgentGate adapter uses for its tool wrapper
 * (`gateTools` in `@agentgate/langchain` and `@agentgate/openai-agents` too).
 */
export function gateTools<TOOLS extends ToolSet>(tools: TOOLS, gate: GateKeeper, options: WithGateOptions = {}): TOOLS {
  const gated = Object.create(Object.getPrototypeOf(tools) as object | null) as TOOLS;
  for (const key of Reflect.ownKeys(tools)) {
    const descriptor = Object.getOwnPropertyDescriptor(tools, key);
    if (descriptor === undefined) continue;
    const value: unknown = "value" in descriptor ? descriptor.value : (tools as Record<PropertyKey, unknown>)[key];
    const tool = typeof key === "string" ? gateTool(key, value, gate, options) : value;
    Object.defineProperty(gated, key, {
      value: tool,
      enumerable: descriptor.enumerable ?? true,
      configurable: descriptor.configurable ?? true,
      writable: descriptor.writable ?? true,
    });
  }
  return gated;
}

function gateTool(toolName: string, tool: unknown, gate: GateKeeper, options: WithGateOptions): unknown {
  if (typeof tool !== "object" || tool === null) return tool;
  const original = (tool as ToolLike).execute;
  if (typeof original !== "function") return tool;
  const execute = original as AnyExecute;

  // Copy with descriptors, not spread: keeps non-enumerable properties, getters and symbols.
  const copy = Object.create(
    Object.getPrototypeOf(tool) as object | null,
    Object.getOwnPropertyDescriptors(tool),
  ) as ToolLike;

  const decide = async (
    input: unknown,
    callOptions: ToolExecutionOptions<unknown>,
  ): Promise<GateDeniedResult | undefined> => {
    const signal = callOptions?.abortSignal;
    signal?.throwIfAborted();
    const toolCallId = callOptions?.toolCallId;
    // When gateToolApproval already asked about this call id, core answers from its per-call record: one audit entry per call.
    const check = (async () => {
      try {
        // No context option: skip the resolver's await entirely (this path runs on every tool call).
        const context =
          options.context === undefined
            ? undefined
            : await resolveContext(options.context, { toolName, toolCallId, input, toolContext: callOptions?.context });
        const decision = await gate.checkToolCall({
          toolName,
          input,
          callId: toolCallId,
          ...(options.mapping !== undefined ? { mapping: options.mapping } : {}),
          ...(context !== undefined ? { context } : {}),
          // The tool runs right after an ALLOW: a recorded call runs once, a replayed history is refused.
          execute: true,
        });
        return decision.type === DecisionType.ALLOW ? undefined : deniedToolResult(decision);
      } catch (error) {
        // Recorded by the gate (audited), returned like any other denial.
        const callId = typeof toolCallId === "string" && toolCallId !== "" ? { callId: toolCallId } : {};
        return deniedToolResult(
          gate.refuse(
            "tool_use",
            `AgentGate could not check tool "${toolName}" (${errorText(error)}), so the call is denied`,
            { target: toolName, ...callId },
          ),
        );
      }
    })();
    return signal === undefined ? check : raceAbort(check, signal);
  };

  let wrapped: AnyExecute;
  if (Object.prototype.toString.call(original) === "[object AsyncGeneratorFunction]") {
    // Keep it an async generator so preliminary results still stream.
    wrapped = async function* (input, callOptions) {
      const denial = await decide(input, callOptions);
      if (denial !== undefined) {
        yield denial;
        return;
      }
      yield* execute.call(tool, input, callOptions) as AsyncIterable<unknown>;
    };
  } else {
    wrapped = async (input, callOptions) => {
      const denial = await decide(input, callOptions);
      if (denial !== undefined) return denial;
      const result = await execute.call(tool, input, callOptions);
      // A plain function that returns an async iterable cannot be told apart before
      // the gate answers; consume it and keep the final value, as the SDK would.
      if (isAsyncIterable(result)) {
        let last: unknown;
        for await (const part of result) last = part;
        return last;
      }
      return result;
    };
  }

  const executeDescriptor = Object.getOwnPropertyDescriptor(tool, "execute");
  Object.defineProperty(copy, "execute", {
    value: wrapped,
    enumerable: executeDescriptor?.enumerable ?? true,
    configurable: true,
    writable: true,
  });

  // A tool's own toModelOutput expects its own output type; send denials as plain JSON.
  const toModelOutput = (tool as ToolLike).toModelOutput;
  if (typeof toModelOutput === "function") {
    const descriptor = Object.getOwnPropertyDescriptor(tool, "toModelOutput");
    Object.defineProperty(copy, "toModelOutput", {
      value: (modelOutputOptions: { output: unknown }) =>
        isGateDenial(modelOutputOptions?.output)
          ? { type: "json", value: modelOutputOptions.output }
          : (toModelOutput as (o: unknown) => unknown).call(tool, modelOutputOptions),
      enumerable: descriptor?.enumerable ?? true,
      configurable: true,
      writable: true,
    });
  }
  return copy;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

/** Rejects with the signal's reason as soon as it aborts; the gate check itself keeps running. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
