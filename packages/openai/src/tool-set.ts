import { runToolCallOnce, type JsonToolCall, type ToolRunOutcome } from "@agentgate/core/internal";
import type { GateKeeper, ToolMapping } from "@agentgate/core";
import type { RunnableToolFunction } from "openai/lib/RunnableFunction";
import type { AutoParseableTool } from "openai/lib/parser";
import type { AutoParseableResponseTool } from "openai/lib/ResponsesParser";
import type { ReadCall } from "./tool-calls.js";

/** A plain function that receives the call's parsed JSON arguments. */
export type ToolFunction = (args: any) => unknown;

/** The tools `runToolCalls` can run: a map of plain functions, or the tools you give `runTools`. */
export type ToolSetInput<ToolContext = unknown> =
  | Readonly<Record<string, ToolFunction>>
  | readonly (RunnableToolFunction<any, ToolContext> | AutoParseableTool<any, true> | AutoParseableResponseTool<any>)[];

/** One runnable tool, whatever shape it came in. */
export interface Runnable {
  name: string;
  /** Turns the raw argument string into the value the function receives (throws when invalid). */
  parse: ((raw: string) => unknown) | undefined;
  /** Calls the function with the checked input, or with the raw string (runTools tools without `parse`). */
  call: (input: unknown, raw: unknown, runner: unknown, toolContext: unknown) => unknown;
}

/** Set on tools returned by `gateRunTools`: the tool they wrap, so `runToolCalls` never gates twice. */
export const GATED_TOOL = Symbol.for("agentgate.openai.gated-tool");

/**
 * Looks up a tool by name: the map's own functions (read at lookup time), or the array's function tools (first
 * with the name wins).
 */
export function toLookup(tools: ToolSetInput<any>): (name: string) => Runnable | undefined {
  if (Array.isArray(tools)) {
    const out = new Map<string, Runnable>();
    for (const tool of tools) {
      const runnable = fromTool(tool);
      if (runnable && !out.has(runnable.name)) out.set(runnable.name, runnable);
    }
    return (name) => out.get(name);
  }
  if (!tools || typeof tools !== "object")
    throw new TypeError("`tools` must be an array of tools or a map of functions");
  return (name) => {
    const fn = Object.hasOwn(tools, name) ? (tools as Record<string, unknown>)[name] : undefined;
    return typeof fn === "function" ? new PlainTool(name, fn as ToolFunction) : undefined;
  };
}

/** A function of a tool map: one object per lookup (no closure), called with the parsed arguments only. */
class PlainTool implements Runnable {
  readonly parse = undefined;
  constructor(
    readonly name: string,
    readonly fn: ToolFunction,
  ) {}
  call(input: unknown): unknown {
    const fn = this.fn;
    return fn(input);
  }
}

/** Reads one tool object (runTools shape, zodFunction, zodResponsesFunction); undefined for non-function tools. */
export function fromTool(input: unknown): Runnable | undefined {
  if (!input || typeof input !== "object") throw new TypeError("each tool must be an object");
  const tool = ((input as Record<symbol, unknown>)[GATED_TOOL] ?? input) as Record<string, any>;
  if (typeof tool.$callback === "function" || tool.$brand === "auto-parseable-tool") {
    const name = typeof tool.name === "string" ? tool.name : tool.function?.name;
    if (typeof name !== "string" || name === "") throw new TypeError("a parseable tool has no name");
    const callback = tool.$callback;
    if (typeof callback !== "function") throw new TypeError(`tool ${JSON.stringify(name)} has no function to run`);
    return { name, parse: (raw) => tool.$parseRaw(raw), call: (input) => callback(input) };
  }
  if (tool.type !== "function") return undefined;
  const fn = tool.function;
  if (!fn || typeof fn.function !== "function") throw new TypeError("a runTools tool needs `function.function`");
  const name = fn.name || fn.function.name;
  if (typeof name !== "string" || name === "") throw new TypeError("a runTools tool has no name");
  if (typeof fn.parse === "function")
    return { name, parse: (raw) => fn.parse(raw), call: (input, _raw, runner, ctx) => fn.function(input, runner, ctx) };
  return { name, parse: undefined, call: (_input, raw, runner, ctx) => fn.function(raw, runner, ctx) };
}

/** What the calls of one batch share: the gate, its mapping, and what runTools-style tools receive. */
export interface RunScope {
  gate: GateKeeper;
  mapping?: ToolMapping | undefined;
  runner?: unknown;
  toolContext?: unknown;
}

/** One call as `runToolCallOnce` runs it, with what its tool receives: one object per call, no closure. */
export interface GatedCall extends JsonToolCall {
  /** The call as the adapter read it. */
  read: ReadCall;
  tool: Runnable | undefined;
  runner: unknown;
  toolContext: unknown;
}

const runTool = (input: unknown, call: GatedCall) =>
  call.tool!.call(input, call.rawArguments, call.runner, call.toolContext);

/** Gates one call of `tool` (undefined: no tool has the name, an audited DENY) and runs it once per call id. */
export function runGated<R = ToolRunOutcome>(
  scope: RunScope,
  call: ReadCall,
  tool: Runnable | undefined,
  shape?: (outcome: ToolRunOutcome, call: GatedCall) => R,
): Promise<R> {
  const gated: GatedCall = {
    gate: scope.gate,
    toolName: call.toolName,
    callId: call.callId,
    rawArguments: call.rawArguments,
    mapping: scope.mapping,
    problem: call.problem,
    parse: tool?.parse,
    run: tool && runTool,
    tool,
    runner: scope.runner,
    toolContext: scope.toolContext,
    read: call,
  };
  return runToolCallOnce(gated, shape);
}
