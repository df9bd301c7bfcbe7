import type { GateKeeper, ToolCall } from "@agentgate/core";
import { assertGateKeeper, checkPausableToolCall } from "@agentgate/core/internal";
import { AIMessage, type ToolMessage } from "@langchain/core/messages";
import type { Command } from "@langchain/langgraph";
import type { AgentMiddleware, ToolCallRequest } from "langchain";
import { whyCannotPause } from "./approval-interrupt.js";
import { checkModelCall, contextOf, deniedToolMessage } from "./context.js";
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

type ModelRequest = { model: unknown; runtime?: ToolCallRequest["runtime"] };
type ToolHandler = (request: ToolCallRequest) => ToolMessage | Command | Promise<ToolMessage | Command>;

/**
 * `createAgent` middleware that checks every tool call and model call against
 * the gate before it runs.
 *
 * - DENY: the tool does not run; the model reads the reason in a `ToolMessage`
 *   with `status: "error"`. A denied model call ends the run with an `AIMessage`
 *   that says why (`response_metadata.agentgate` holds the decision).
 * - ESCALATE: an approval handler on the gate answers inline. Otherwise the run
 *   pauses with a LangGraph `interrupt()` in LangChain's HITL format (a
 *   {@link GateInterruptValue}), resumed with a `HITLResponse` or
 *   `{ approved, approvedBy?, reason? }`; the tool runs only if the gate's own
 *   record then says ALLOW. Needs a checkpointer.
 *
 * ```ts
 * const agent = createAgent({ model, tools, middleware: [gateMiddleware(gate)], checkpointer: new MemorySaver() });
 * ```
 */
export function gateMiddleware(gate: GateKeeper, options: GateMiddlewareOptions = {}): AgentMiddleware {
  assertGateKeeper(gate, "gateMiddleware");
  const middleware: Record<string | symbol, unknown> = { [MIDDLEWARE_BRAND]: true, name: options.name ?? "AgentGate" };
  if (options.toolCalls !== false) {
    middleware.wrapToolCall = async (request: ToolCallRequest, handler: ToolHandler) => {
      const call = request.toolCall;
      const { mapping, context } = options;
      const check: ToolCall = { toolName: call.name, input: call.args, callId: call.id || undefined, mapping };
      check.context = contextOf(context, request.runtime?.configurable?.thread_id);
      // Right before the tool runs: a recorded call runs once, a replay is refused.
      check.execute = true;
      const { decision, edited } = await checkPausableToolCall(gate, check, {
        // humanInTheLoopMiddleware on the same agent already asked about this call: one question, one answer.
        priorApproval: () => hitlApproval(request.runtime, request.state, check),
        // LangGraph's interrupt: throws to pause the run; on resume, returns the answer.
        pause: async (question) =>
          (request.runtime?.interrupt ?? (await loadLanggraph()).interrupt)({
            ...question,
            type: "agentgate.approval",
          }),
        cannotPause: whyCannotPause,
      });
      if (decision.type !== "allow") return deniedToolMessage(call, decision);
      // A human's edit runs with the edited arguments (checked again by the gate).
      return handler(edited ? { ...request, toolCall: { ...call, args: edited } } : request);
    };
  }
  if (options.modelCalls !== false) {
    middleware.wrapModelCall = async (request: ModelRequest, handler: (request: ModelRequest) => unknown) => {
      const context = contextOf(options.context, request.runtime?.configurable?.thread_id);
      const decision = await checkModelCall(gate, modelNameOf(request.model), context);
      if (decision.type === "allow") return handler(request);
      const content = `AgentGate blocked the model call: ${decision.reason}`;
      return new AIMessage({ content, response_metadata: { agentgate: { ...decision } } });
    };
  }
  return middleware as unknown as AgentMiddleware;
}
