import { deniedToolResult, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { checkToolCallWithContext, raceAbort } from "@agentgate/core/internal";
import type { ToolExecutionOptions, ToolSet } from "ai";
import type { GateContextResolver } from "./context.js";
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
type ToolLike = { execute?: AnyExecute; toModelOutput?: (options: { output: unknown }) => unknown };

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
  const descriptors: Record<PropertyKey, PropertyDescriptor> = Object.getOwnPropertyDescriptors(tools);
  for (const key of Reflect.ownKeys(descriptors)) {
    const { enumerable, configurable, writable, ...rest } = descriptors[key]!;
    // A getter is read once and its tool gated: the copy holds plain values only.
    const value: unknown = "value" in rest ? rest.value : (tools as Record<PropertyKey, unknown>)[key];
    descriptors[key] = {
      value: typeof key === "string" ? gateTool(key, value, gate, options) : value,
      enumerable: enumerable ?? true,
      configurable: configurable ?? true,
      writable: writable ?? true,
    };
  }
  return Object.create(Object.getPrototypeOf(tools) as object | null, descriptors) as TOOLS;
}

function gateTool(toolName: string, tool: unknown, gate: GateKeeper, options: WithGateOptions): unknown {
  if (typeof tool !== "object" || tool === null) return tool;
  const { execute, toModelOutput } = tool as ToolLike;
  if (typeof execute !== "function") return tool;
  const { mapping, context } = options;

  const decide = (input: unknown, callOptions: ToolExecutionOptions<unknown>): Promise<Decision> => {
    const signal = callOptions?.abortSignal;
    signal?.throwIfAborted();
    const toolCallId = callOptions?.toolCallId;
    // `execute: true`: the tool runs right after an ALLOW, so a recorded call runs once and a replay is refused.
    // When gateToolApproval already asked about this call id, core answers from its per-call record.
    const check = checkToolCallWithContext(
      gate,
      { toolName, input, callId: toolCallId, mapping, execute: true },
      context && (() => context({ toolName, toolCallId, input, toolContext: callOptions?.context })),
    );
    return signal === undefined ? check : raceAbort(check, signal);
  };

  // Keep an async generator one, so preliminary results still stream.
  const wrapped: AnyExecute =
    Object.prototype.toString.call(execute) === "[object AsyncGeneratorFunction]"
      ? async function* (input, callOptions) {
          const decision = await decide(input, callOptions);
          if (decision.type !== "allow") {
            yield deniedToolResult(decision);
            return;
          }
          yield* execute.call(tool, input, callOptions) as AsyncIterable<unknown>;
        }
      : async (input, callOptions) => {
          const decision = await decide(input, callOptions);
          if (decision.type !== "allow") return deniedToolResult(decision);
          const result = await execute.call(tool, input, callOptions);
          // A plain function that returns an async iterable cannot be told apart before the gate
          // answers; consume it and keep the final value, as the SDK would.
          if (!isAsyncIterable(result)) return result;
          let last: unknown;
          for await (const part of result) last = part;
          return last;
        };

  // Copy with descriptors, not spread: keeps non-enumerable properties, getters and symbols.
  const descriptors = Object.getOwnPropertyDescriptors(tool) as Record<string, PropertyDescriptor>;
  descriptors.execute = method(wrapped, descriptors.execute);
  if (typeof toModelOutput === "function") {
    // A tool's own toModelOutput expects its own output type; send denials as plain JSON.
    const toJson = (o: { output: unknown }) =>
      isGateDenial(o?.output) ? { type: "json", value: o.output } : toModelOutput.call(tool, o);
    descriptors.toModelOutput = method(toJson, descriptors.toModelOutput);
  }
  return Object.create(Object.getPrototypeOf(tool) as object | null, descriptors);
}

const method = (value: unknown, was: PropertyDescriptor | undefined): PropertyDescriptor => ({
  value,
  enumerable: was?.enumerable ?? true,
  configurable: true,
  writable: true,
});

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}
