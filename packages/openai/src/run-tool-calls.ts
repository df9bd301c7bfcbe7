import { assertGateKeeper, type ToolRunOutcome, type ToolRunStatus } from "@agentgate/core/internal";
import type { GateKeeper, ToolMapping } from "@agentgate/core";
import type { ChatCompletionToolMessageParam } from "openai/resources/chat/completions";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { readToolCalls, type ChatToolCallsInput, type ResponsesToolCallsInput } from "./tool-calls.js";
import { runGated, toLookup, type GatedCall, type ToolSetInput } from "./tool-set.js";

/** How one call ended. */
export type CallStatus = ToolRunStatus;

/** Options for {@link runToolCalls}. */
export interface RunToolCallsOptions<ToolContext = unknown> {
  gate: GateKeeper;
  /**
   * The functions to run: `{ get_weather: ({ city }) => ... }` (parsed JSON arguments), or the same tools you
   * give `runTools` (`zodFunction`, `zodResponsesFunction`, `{ type: "function", function: { function, parse? } }`).
   */
  tools: ToolSetInput<ToolContext>;
  /** As in `gate.checkToolCall`: tool name → action and target. Default: `tool_use`, target the tool name. */
  mapping?: ToolMapping;
  /** Passed as the third argument to runTools-style tools (their `runner` argument is `undefined` here). */
  toolContext?: ToolContext;
}

/** One call's outcome (status, decision, output, result or error) and the item to send back to the model. */
export interface ToolCallResult<Item> extends ToolRunOutcome {
  /** The model's call id (`id` in Chat Completions, `call_id` in Responses). */
  callId: string | undefined;
  toolName: string;
  /** The next input item: append it to `messages` / `input`. */
  item: Item;
}

/** A Chat Completions result: `item` is a `role: "tool"` message. */
export type ChatToolCallResult = ToolCallResult<ChatCompletionToolMessageParam>;
/** A Responses API result: `item` is a `function_call_output` input item. */
export type ResponsesToolCallResult = ToolCallResult<ResponseInputItem.FunctionCallOutput>;

/**
 * Gates and runs what the model asked for, for a hand-written loop. Give it Chat Completions
 * `message.tool_calls` (or the chunks of a streamed completion), or Responses API `response.output` (or the
 * stream's `response.output_item.done` / `response.completed` events); get back, in the same order, one result
 * per function call with the gate's decision and the item to send back: the function's result, or the denial
 * the model reads.
 *
 * Each call is checked and run on its own, in parallel. Each call id runs once per gate (in this process): a
 * repeat with the same tool and arguments returns the first output without running again, a repeat with other
 * arguments is denied. Malformed JSON arguments, unknown tools and arguments the tool's own `parse` rejects are
 * audited DENYs, never a crash.
 *
 * ESCALATE asks the gate's `approvalHandler` inline when it has one. Without one the result is `escalated` and
 * its item tells the model a human must approve: either send it, or resolve the escalation and call
 * `runToolCalls` again with the same calls (the calls that already ran are not run again).
 *
 * @example
 * const results = await runToolCalls(response.output, { gate, tools: { get_weather } });
 * input.push(...response.output, ...results.map((r) => r.item));
 */
export function runToolCalls<ToolContext = unknown>(
  calls: ChatToolCallsInput,
  options: RunToolCallsOptions<ToolContext>,
): Promise<ChatToolCallResult[]>;
export function runToolCalls<ToolContext = unknown>(
  calls: ResponsesToolCallsInput,
  options: RunToolCallsOptions<ToolContext>,
): Promise<ResponsesToolCallResult[]>;
export function runToolCalls(
  calls: ChatToolCallsInput | ResponsesToolCallsInput,
  options: RunToolCallsOptions<unknown>,
): Promise<(ChatToolCallResult | ResponsesToolCallResult)[]> {
  // Not `async` (an async function returning the run's promise costs two promises and two ticks more
  // per batch); argument errors still reject.
  try {
    if (!options || typeof options !== "object") throw new TypeError("runToolCalls needs { gate, tools }");
    // Read once: the gate checked here is the one every call of the batch uses.
    const { gate, mapping, toolContext } = options;
    assertGateKeeper(gate, "runToolCalls");
    const scope = { gate, mapping, toolContext };
    const tools = toLookup(options.tools);
    const read = readToolCalls(calls);
    // One call (the usual batch) skips Promise.all and its extra promises.
    if (read.length === 1) return runGated(scope, read[0]!, tools(read[0]!.toolName), toResults);
    return Promise.all(read.map((call) => runGated(scope, call, tools(call.toolName), toResult)));
  } catch (error) {
    return Promise.reject(error);
  }
}

function toResult(outcome: ToolRunOutcome, { read: call }: GatedCall): ChatToolCallResult | ResponsesToolCallResult {
  const callId = call.callId;
  // The outcome is this call's own object: completed in place rather than copied.
  const result = outcome as ChatToolCallResult | ResponsesToolCallResult;
  result.callId = callId;
  result.toolName = call.toolName;
  result.item =
    call.api === "chat"
      ? { role: "tool", tool_call_id: callId ?? "", content: outcome.output }
      : { type: "function_call_output", call_id: callId ?? "", output: outcome.output };
  return result;
}

const toResults = (outcome: ToolRunOutcome, call: GatedCall) => [toResult(outcome, call)];
