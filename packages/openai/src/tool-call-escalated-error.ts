import { AgentGateError, PermissionDeniedError, type Decision } from "@agentgate/core";
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from "openai/resources/chat/completions";

const marker = "agentgate.error.ToolCallEscalatedError";
const symbol = Symbol.for(marker);

/**
 * Ends a `runTools` run when the gate escalates a call and has no inline approval handler (`escalation: "end"`,
 * the default). Settle it with `gate.resolveEscalation(error.escalationId, answer)`, then finish the assistant
 * turn with `runToolCalls(error.toolCalls, ...)` and start a new run with
 * `[...error.messages, ...results.map((r) => r.item)]`.
 *
 * The SDK's runner wraps errors thrown by tools: find this one with {@link findGateError}.
 */
export class ToolCallEscalatedError extends PermissionDeniedError {
  private readonly [symbol] = true;
  /** Pass to `gate.resolveEscalation`. */
  readonly escalationId: string;
  /** The escalated call. */
  readonly toolCall: { id: string | undefined; name: string; arguments: string };
  /** Every tool call of the assistant turn that was interrupted (the escalated one included). */
  readonly toolCalls: readonly ChatCompletionMessageToolCall[];
  /** The conversation up to and including that assistant turn: append the tool results, then run again. */
  readonly messages: readonly ChatCompletionMessageParam[];

  constructor(decision: Decision, details: Pick<ToolCallEscalatedError, "toolCall" | "toolCalls" | "messages">) {
    super(decision);
    this.name = "ToolCallEscalatedError";
    this.escalationId = decision.escalationId ?? "";
    this.toolCall = details.toolCall;
    this.toolCalls = details.toolCalls;
    this.messages = details.messages;
  }

  static override isInstance(error: unknown): error is ToolCallEscalatedError {
    return AgentGateError.hasMarker(error, marker);
  }
}
