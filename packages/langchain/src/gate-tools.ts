import { deniedToolResult, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { assertGateKeeper } from "@agentgate/core/internal";
import type { CallbackManagerForToolRun } from "@langchain/core/callbacks/manager";
import type { StructuredTool } from "@langchain/core/tools";
import { contextOf, deniedToolMessage } from "./context.js";

// oxlint-disable-next-line typescript/no-explicit-any -- any tool, whatever its schema and output
type AnyTool = StructuredTool<any, any, any, any, any>;

/** What a tool's function receives: the input after its schema parsed it. */
export type GateToolInput<T> = T extends StructuredTool<any, infer Parsed, any, any, any> ? Parsed : unknown;

/** A `mapping` keyed by the names of the wrapped tools, with each `target` typed by that tool's input. */
export type GateToolsMapping<T extends readonly AnyTool[]> = {
  [Name in T[number]["name"]]?: {
    action: string;
    target?: (input: GateToolInput<Extract<T[number], { name: Name }>>) => string | undefined;
  };
};

/** Options for {@link gateTools}. */
export interface GateToolsOptions<T extends readonly AnyTool[]> {
  /** Maps tool names to actions and targets; the target function gets the parsed input. */
  mapping?: GateToolsMapping<T>;
  /** Extra context recorded with each decision. */
  context?: Record<string, unknown>;
}

/**
 * Wraps LangChain tools so each checks the gate before its function runs.
 * The wrapped tools keep their name, description, schema and types; only the
 * function is wrapped (not `invoke`), so a call is traced once.
 *
 * A refused call does not run: it returns a `ToolMessage` with
 * `status: "error"` and the core's denial as JSON when it was invoked with a
 * tool call, or that JSON text otherwise. Checks are idempotent per tool call
 * id: after `gate.resolveEscalation` approves an escalation, invoking the same
 * tool call again runs it.
 *
 * ```ts
 * const tools = gateTools([search, shell], gate, { mapping: { shell: { action: "shell", target: (i) => i.cmd } } });
 * ```
 */
export function gateTools<T extends readonly AnyTool[] | []>(
  tools: T,
  gate: GateKeeper,
  options: GateToolsOptions<T> = {},
): T {
  assertGateKeeper(gate, "gateTools");
  if (!Array.isArray(tools)) throw new TypeError("gateTools needs an array of LangChain tools");
  return tools.map((tool) => gateTool(tool, gate, options as GateToolsOptions<readonly AnyTool[]>)) as unknown as T;
}

type CallFn = (arg: unknown, runManager?: CallbackManagerForToolRun, config?: Record<string, unknown>) => unknown;

function gateTool(tool: AnyTool, gate: GateKeeper, options: GateToolsOptions<readonly AnyTool[]>): AnyTool {
  const original = tool as unknown as { name?: unknown; _call?: unknown; responseFormat?: unknown } | undefined;
  if (typeof original?._call !== "function" || typeof original.name !== "string") {
    const which = typeof original?.name === "string" ? JSON.stringify(original.name) : "an entry";
    throw new TypeError(`gateTools: ${which} is not a LangChain StructuredTool (from tool() or a subclass)`);
  }
  const name = original.name;
  const run = original._call as CallFn;
  const mapping = options.mapping as ToolMapping | undefined;
  const context = contextOf(options.context, undefined);

  const gatedCall: CallFn = async (arg, runManager, config) => {
    // `invoke(toolCall)` puts the call in the config; LangGraph's ToolNode passes its id too.
    const id = (config?.toolCall as { id?: unknown } | undefined)?.id || config?.toolCallId;
    const callId = typeof id === "string" && id !== "" ? id : undefined;
    // Never rejects: every failure comes back as an audited DENY.
    const decision = await gate.checkToolCall({ toolName: name, input: arg, callId, mapping, context, execute: true });
    // The original function, on the original tool (its own fields, private ones included). Awaited
    // here rather than returned: adopting a returned promise costs the caller two ticks more.
    if (decision.type === "allow") return await run.call(tool, arg, runManager, config);
    const refused =
      callId === undefined
        ? JSON.stringify(deniedToolResult(decision))
        : deniedToolMessage({ id: callId, name }, decision);
    // Tools that return [content, artifact] must still return a pair.
    return original.responseFormat === "content_and_artifact" ? [refused, undefined] : refused;
  };
  // Same object in every respect (prototype chain), except for the function.
  return Object.assign(Object.create(tool) as AnyTool, { _call: gatedCall });
}
