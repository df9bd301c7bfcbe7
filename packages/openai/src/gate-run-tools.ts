import { assertGateKeeper } from "@agentgate/core/internal";
import type { GateKeeper, ToolMapping } from "@agentgate/core";
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from "openai/resources/chat/completions";
import type { RunnableToolFunctionWithContext, RunnableToolFunctionWithoutParse } from "openai/lib/RunnableFunction";
import type { AutoParseableTool } from "openai/lib/parser";
import { ToolCallEscalatedError } from "./tool-call-escalated-error.js";
import { fromTool, GATED_TOOL, runGated } from "./tool-set.js";

/** Options for {@link gateRunTools}. */
export interface GateRunToolsOptions {
  /** As in `gate.checkToolCall`: tool name → action and target. Default: `tool_use`, target the tool name. */
  mapping?: ToolMapping;
  /**
   * What an ESCALATE does when the gate has no `approvalHandler` (with one, the handler is always asked inline
   * and the run goes on with its answer):
   * - `"end"` (default): the run rejects with a {@link ToolCallEscalatedError} (wrapped by the SDK: use
   *   `findGateError`) carrying the escalation id and the conversation, to resume once a human has answered;
   * - `"deny"`: the model reads that a human must approve, and the run goes on.
   */
  escalation?: "end" | "deny";
}

/** The tools `gateRunTools` accepts: the ones `client.chat.completions.runTools` accepts. */
export type RunToolsTool<ToolContext = unknown> =
  | RunnableToolFunctionWithContext<ToolContext>
  | AutoParseableTool<any, true>;

type Runner = { messages?: unknown };

/**
 * Puts the tools of `client.chat.completions.runTools` behind the gate. Every call the model makes is checked
 * with `gate.checkToolCall` (the model's call id as `callId`, `execute: true`) before its function runs:
 *
 * - ALLOW runs the function (parsed with its own `parse` / zod schema first);
 * - DENY never runs it: the model reads `{ denied: true, code, reason }` as the tool message;
 * - malformed JSON or arguments the tool's schema rejects are audited DENYs the model reads;
 * - ESCALATE asks the gate's `approvalHandler` inline; without one, see {@link GateRunToolsOptions.escalation}.
 *
 * Each call id runs once per gate (shared with `runToolCalls`). Returns raw-argument tools (the gate parses
 * before checking), so pass them as `tools`; `zodFunction` tools keep their strict schema.
 *
 * @example
 * const runner = client.chat.completions.runTools({ model, messages, tools: gateRunTools([getWeather], gate) });
 */
export function gateRunTools<ToolContext = unknown>(
  tools: readonly RunToolsTool<ToolContext>[],
  gate: GateKeeper,
  options: GateRunToolsOptions = {},
): RunnableToolFunctionWithoutParse<ToolContext>[] {
  if (!Array.isArray(tools)) throw new TypeError("gateRunTools: `tools` must be an array");
  assertGateKeeper(gate, "gateRunTools");
  const { mapping, escalation = "end" } = options;
  if (escalation !== "end" && escalation !== "deny")
    throw new TypeError('gateRunTools: `escalation` must be "end" or "deny"');
  return tools.map((tool) => {
    const runnable = fromTool(tool);
    if (!runnable) throw new TypeError("gateRunTools: only function tools can be gated");
    const source = ((tool as unknown as Record<symbol, unknown>)[GATED_TOOL] ?? tool) as Record<string, any>;
    const definition = source.function;
    const strict = source.$brand === "auto-parseable-tool" ? true : definition?.strict;
    const gated: RunnableToolFunctionWithoutParse<ToolContext> = {
      type: "function",
      function: {
        name: runnable.name,
        description: definition?.description ?? "",
        parameters: definition?.parameters ?? {},
        ...(strict !== undefined ? { strict } : {}),
        function: async (raw: string, runner, toolContext) => {
          const found = findCall(runner as Runner, runnable.name, raw);
          const call = { api: "chat" as const, toolName: runnable.name, callId: found?.id, rawArguments: raw };
          const outcome = await runGated({ gate, mapping, runner, toolContext }, call, runnable);
          // The SDK's own behaviour for a throwing tool: the run rejects (a replay just returns the text).
          if (outcome.status === "failed" && !outcome.replayed) throw outcome.error;
          if (outcome.status === "escalated" && escalation === "end") {
            throw new ToolCallEscalatedError(outcome.decision, {
              toolCall: { id: found?.id, name: runnable.name, arguments: raw },
              toolCalls: found?.turn ?? [],
              messages: (found?.messages.slice(0, found.end) ?? []) as ChatCompletionMessageParam[],
            });
          }
          return outcome.status === "ran" && !outcome.replayed ? outcome.result : outcome.output;
        },
      },
    };
    Object.defineProperty(gated, GATED_TOOL, { value: source, enumerable: false });
    return gated;
  });
}

// Call ids already matched per assistant message: identical parallel calls each get their own id.
const claimed = new WeakMap<object, Set<string>>();

/**
 * The runner does not pass the call id to tools; it is on the assistant message the runner appended last. Tools
 * without `parse` are called synchronously in `tool_calls` order, so the first unclaimed call with this name
 * and these exact arguments is this one.
 */
function findCall(
  runner: Runner | undefined,
  name: string,
  raw: string,
): { id: string; turn: ChatCompletionMessageToolCall[]; messages: unknown[]; end: number } | undefined {
  const messages = runner?.messages;
  if (!Array.isArray(messages)) return undefined;
  const end = messages.findLastIndex((m) => m?.role === "assistant") + 1;
  const message = messages[end - 1] as { tool_calls?: unknown } | undefined;
  if (message === undefined || !Array.isArray(message.tool_calls)) return undefined;
  const calls = message.tool_calls as ChatCompletionMessageToolCall[];
  let used = claimed.get(message);
  if (!used) claimed.set(message, (used = new Set()));
  for (const call of calls) {
    if (call?.type !== "function" || typeof call.id !== "string" || used.has(call.id)) continue;
    if (call.function?.name === name && call.function?.arguments === raw) {
      used.add(call.id);
      // The conversation up to this turn is copied only if the call escalates.
      return { id: call.id, turn: calls, messages, end };
    }
  }
  return undefined;
}
