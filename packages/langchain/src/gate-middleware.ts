import type { GateKeeper, ToolCall } from "@agentgate/core";
import { checkPausableToolCall, checkWithoutPause } from "@agentgate/core/internal";
import { AIMessage, type ToolMessage } from "@langchain/core/messages";
import type { Command } from "@langchain/langgraph";
import type { AgentMiddleware, ToolCallRequest } from "langchain";
import { whyCannotPause } from "./approval-interrupt.js";
import { contextOf, requireGate } from "./context.js";
import { deniedToolMessage } from "./denial.js";
import type { GateCallbackHandlerOptions } from "./gate-callback-handler.js";
import { hitlApproval } from "./hitl-answer.js";
import { modelNameOf } from "./model-name.js";
import { loadLanggraph } from "./optional-peers.js";

// What `createMiddleware` from `langchain` stamps on a middleware. Built here so that
// importing this package never loads `langchain` (a type-only peer for this file).
const MIDDLEWARE_BRAND = Symbol.for("AgentMiddleware");

/** Options for {@link gateMiddleware}: the callback handler's, and the middleware's name. */
export interface GateMiddlewareOptions extends GateCallbackHandlerOptions {
  /** The middleware's name in the agent (default `"AgentGate"`). */
  name?: string;
}

type Runtime = ToolCallRequest["runtime"] | undefined;
type ToolHandler = (request: ToolCallRequest) => ToolMessage | Command | Promise<ToolMessage | Command>;

/**
 * `createAgent` middleware that checks every tool call and model call against
 * the gate before it runs.
 *
 * - DENY: the tool does not run; the model gets a `ToolMessage` with
 *   `status: "error"` and the reason. A denied model call ends the run with an
 *   `AIMessage` that says why (`response_metadata.agentgate` holds the decision).
 * - ESCALATE: with an approval handler on the gate, the gate asks it. Otherwise
 *   the run pauses with a LangGraph `interrupt()` whose value is a
 *   {@link GateInterruptValue}; resume with
 *   `new Command({ resume: { approved, approvedBy?, reason? } })` (or a map by
 *   interrupt id when several are pending). The answer is recorded through
 *   `gate.resolveEscalation`, and the tool runs only if the gate's record then
 *   says ALLOW. Needs a checkpointer.
 *
 * ```ts
 * const agent = createAgent({ model, tools, middleware: [gateMiddleware(gate)], checkpointer: new MemorySaver() });
 * ```
 */
export function gateMiddleware(gate: GateKeeper, options: GateMiddlewareOptions = {}): AgentMiddleware {
  requireGate(gate, "gateMiddleware");
  const middleware: Record<string | symbol, unknown> = { [MIDDLEWARE_BRAND]: true, name: options.name ?? "AgentGate" };
  if (options.toolCalls !== false) {
    middleware.wrapToolCall = (request: ToolCallRequest, handler: ToolHandler) =>
      gateToolCall(gate, options, request, handler);
  }
  if (options.modelCalls !== false) {
    middleware.wrapModelCall = async (
      request: { model: unknown; runtime: Runtime },
      handler: (r: unknown) => unknown,
    ) => {
      const check = {
        target: modelNameOf(request.model),
        context: contextOf(options.context, request.runtime?.configurable?.thread_id),
      };
      // A model call has no stable id to resume by, so it cannot wait for a human here.
      const why = "model calls cannot wait for approval in gateMiddleware (give the GateKeeper an approvalHandler)";
      const decision = await checkWithoutPause(gate, "llm_call", check, why);
      if (decision.type === "allow") return handler(request);
      const content = `AgentGate blocked the model call: ${decision.reason}`;
      return new AIMessage({ content, response_metadata: { agentgate: { ...decision } } });
    };
  }
  return middleware as unknown as AgentMiddleware;
}

async function gateToolCall(
  gate: GateKeeper,
  options: GateMiddlewareOptions,
  request: ToolCallRequest,
  handler: ToolHandler,
): Promise<ToolMessage | Command> {
  const call = request.toolCall;
  const check: ToolCall = {
    toolName: call.name,
    input: call.args,
    callId: call.id || undefined,
    mapping: options.mapping,
    context: contextOf(options.context, request.runtime?.configurable?.thread_id),
    // Every check here comes right before the tool runs: a recorded call runs once, a replay is refused.
    execute: true,
  };
  const { decision, edited } = await checkPausableToolCall(gate, check, {
    // humanInTheLoopMiddleware on the same agent already asked about this call: one question, one answer.
    priorApproval: () => hitlApproval(request.runtime, request.state, { ...check, callId: call.id ?? "" }),
    // LangGraph's interrupt: throws to pause the run; on resume, returns the answer.
    pause: async (question) =>
      (request.runtime?.interrupt ?? (await loadLanggraph()).interrupt)({ ...question, type: "agentgate.approval" }),
    cannotPause: whyCannotPause,
  });
  if (decision.type !== "allow") return deniedToolMessage(call, decision);
  // A human's edit runs with the edited arguments (checked again by the gate).
  return handler(edited ? { ...request, toolCall: { ...call, args: edited } } : request);
}
