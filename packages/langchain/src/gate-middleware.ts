import { errorText } from "@agentgate/core/internal";
import {
  EscalationError,
  type ApprovalResolution,
  type Decision,
  type GateKeeper,
  type ToolCall,
  type ToolMapping,
} from "@agentgate/core";
import { AIMessage, type ToolMessage } from "@langchain/core/messages";
import type { Command } from "@langchain/langgraph";
import type { AgentMiddleware, ToolCallRequest } from "langchain";
import {
  isMissingCheckpointer,
  readResume,
  resumeEscalationId,
  type GateInterruptValue,
} from "./approval-interrupt.js";
import type { GateCallbackHandlerOptions } from "./gate-callback-handler.js";
import { adapterDenial, deniedToolMessage } from "./denial.js";
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

type Runtime = ToolCallRequest["runtime"];
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
  if (!gate || typeof (gate as Partial<GateKeeper>).checkToolCall !== "function") {
    throw new TypeError("gateMiddleware needs a GateKeeper");
  }
  const middleware = {
    [MIDDLEWARE_BRAND]: true,
    name: options.name ?? "AgentGate",
    ...(options.toolCalls === false
      ? {}
      : {
          wrapToolCall: (request: unknown, handler: unknown) =>
            gateToolCall(gate, options, request as ToolCallRequest, handler as ToolHandler),
        }),
    ...(options.modelCalls === false
      ? {}
      : {
          wrapModelCall: async (
            request: { model: unknown; runtime: unknown },
            handler: (request: unknown) => unknown,
          ) => {
            const decision = await checkModelCall(gate, options, request.model, request.runtime as Runtime);
            if (decision.type !== "allow") return blockedModelMessage(decision);
            return handler(request);
          },
        }),
  };
  return middleware as unknown as AgentMiddleware;
}

async function gateToolCall(
  gate: GateKeeper,
  options: GateMiddlewareOptions,
  request: ToolCallRequest,
  handler: ToolHandler,
): Promise<ToolMessage | Command> {
  const call = request.toolCall;
  const callId = typeof call.id === "string" && call.id !== "" ? call.id : undefined;
  const check: ToolCall = {
    toolName: call.name,
    input: call.args,
    callId,
    mapping: options.mapping,
    context: contextOf(options, request.runtime),
    // Every check here comes right before the tool runs: a recorded call runs once, a replay is refused.
    execute: true,
  };

  let decision: Decision;
  let pendingBefore: ReadonlySet<string> = new Set();
  try {
    // Which escalations for this call were open before this check: a resume
    // may only answer one of those, never one this very check just opened.
    if (callId !== undefined && !gate.hasApprovalHandler && mayEscalate(gate, call.name, options.mapping)) {
      pendingBefore = await pendingFor(gate, callId);
    }
    decision = await gate.checkToolCall(check);
  } catch (error) {
    decision = adapterDenial(
      gate,
      { action: "tool_use", target: call.name, callId },
      `AgentGate could not check tool ${JSON.stringify(call.name)}: ${errorText(error)}`,
    );
  }

  let edited: Record<string, unknown> | undefined;
  if (decision.type === "escalate") {
    ({ decision, edited } = await approveWithInterrupt(gate, check, decision, pendingBefore, request.runtime));
  }
  if (decision.type !== "allow") return deniedToolMessage(call, decision);
  // A human's edit runs with the edited arguments (checked again by the gate).
  return handler(edited ? { ...request, toolCall: { ...call, args: edited } } : request);
}

/**
 * Pauses the run for a human. Resolves the decision to act on; throws
 * LangGraph's interrupt (never swallowed). Without a checkpointer the run
 * cannot pause: the call is refused and the escalation stays pending.
 */
async function approveWithInterrupt(
  gate: GateKeeper,
  check: ToolCall,
  escalation: Decision,
  pendingBefore: ReadonlySet<string>,
  runtime: Runtime,
): Promise<{ decision: Decision; edited?: Record<string, unknown> }> {
  const escalationId = escalation.escalationId;
  const callId = check.callId;
  if (escalationId === undefined || callId === undefined) {
    // Without a call id a resumed run could not find its escalation again.
    if (escalationId !== undefined)
      await settleQuietly(gate, escalationId, "the tool call has no id, so it cannot wait for approval");
    return {
      decision: adapterDenial(
        gate,
        { action: escalation.action, target: escalation.target, callId, code: "approval_error" },
        `${escalation.reason}; but the tool call has no id, so it cannot wait for approval`,
      ),
    };
  }

  // humanInTheLoopMiddleware on the same agent already asked about this call: one question, one answer.
  const hitl = await hitlApproval(runtime, { id: callId, name: check.toolName, args: check.input });
  if (hitl) {
    try {
      await gate.answerEscalation(escalationId, {
        approved: true,
        approvedBy: hitl.approvedBy,
        reason: "approved through humanInTheLoopMiddleware",
      });
    } catch {
      // Unknown or gone: the gate's record decides below.
    }
    return { decision: await gate.checkToolCall(check) };
  }

  const value: GateInterruptValue = {
    // LangChain's HITLRequest: one action, this call.
    actionRequests: [
      {
        name: check.toolName,
        args: isRecord(check.input) ? check.input : { input: check.input },
        description: `AgentGate: ${escalation.reason}\n\nTool: ${check.toolName}\nArgs: ${safeJson(check.input)}`,
      },
    ],
    reviewConfigs: [{ actionName: check.toolName, allowedDecisions: ["approve", "edit", "reject"] }],
    type: "agentgate.approval",
    escalationId,
    callId,
    toolName: check.toolName,
    args: check.input,
    action: escalation.action,
    reason: escalation.reason,
    agent: { id: escalation.agentId, name: escalation.agentName },
  };
  if (escalation.target !== undefined) value.target = escalation.target;

  let interrupt: (value: unknown) => unknown;
  try {
    interrupt = typeof runtime?.interrupt === "function" ? runtime.interrupt : (await loadLanggraph()).interrupt;
  } catch (error) {
    await settleQuietly(gate, escalationId, "LangGraph is not available to ask for approval");
    return {
      decision: adapterDenial(gate, { action: escalation.action, target: escalation.target, callId }, errorText(error)),
    };
  }

  let resume: unknown;
  try {
    // First pass: throws GraphInterrupt and the run pauses. On resume: returns the answer.
    resume = interrupt(value);
  } catch (error) {
    if (isMissingCheckpointer(error)) {
      // Same as gateTools and GateCallbackHandler: a refusal the model reads, the escalation left pending.
      return {
        decision: adapterDenial(
          gate,
          { action: escalation.action, target: escalation.target, callId, code: "approval_error" },
          noCheckpointerReason(escalation.reason, escalationId),
        ),
      };
    }
    throw error;
  }

  const named = resumeEscalationId(resume);
  if (!pendingBefore.has(escalationId) || (named !== undefined && named !== escalationId)) {
    const why =
      named !== undefined && named !== escalationId
        ? `the resume value answers escalation ${JSON.stringify(named)}, not ${JSON.stringify(escalationId)}`
        : "the resume value does not answer an escalation this gate issued for this call";
    await settleQuietly(gate, escalationId, `refused resume: ${why}`);
    return {
      decision: adapterDenial(
        gate,
        { action: escalation.action, target: escalation.target, callId, code: "approval_error" },
        `approval refused: ${why}`,
      ),
    };
  }

  const answer = readResume(resume);
  if (answer.edited) return approveEdit(gate, check, escalationId, answer);
  try {
    // The core validates the answer: anything but { approved: boolean } (or a boolean) is a rejection.
    await gate.resolveEscalation(escalationId, answer.resolution as ApprovalResolution);
  } catch (error) {
    // Settled elsewhere first (another approver, a timeout): the gate's record decides below.
    if (!EscalationError.isInstance(error)) {
      return {
        decision: adapterDenial(
          gate,
          { action: escalation.action, target: escalation.target, callId },
          `AgentGate could not record the approval: ${errorText(error)}`,
        ),
      };
    }
  }
  // Only the gate's own record can allow the call: re-check the same call id (never rejects).
  return { decision: await gate.checkToolCall(check) };
}

/**
 * A human edited the call: the original call does not run (its escalation is
 * settled as not approved), and the edited one is a new call, checked against
 * the policy again. If that check escalates, the human's edit is its approval.
 */
async function approveEdit(
  gate: GateKeeper,
  check: ToolCall,
  escalationId: string,
  answer: { resolution: unknown; edited?: { name: string; args: Record<string, unknown> } },
): Promise<{ decision: Decision; edited?: Record<string, unknown> }> {
  const edited = answer.edited!;
  const approvedBy = (answer.resolution as { approvedBy?: string }).approvedBy;
  const by = approvedBy !== undefined ? { approvedBy } : {};
  await settleQuietly(
    gate,
    escalationId,
    "a human edited the call; the edited call was checked on its own",
    approvedBy,
  );
  if (edited.name !== check.toolName) {
    return {
      decision: adapterDenial(
        gate,
        { action: "tool_use", target: check.toolName, callId: check.callId, code: "approval_error" },
        `an edit may change the arguments of ${JSON.stringify(check.toolName)}, not turn it into ${JSON.stringify(edited.name)}`,
      ),
    };
  }
  const editedCheck: ToolCall = { ...check, input: edited.args, callId: `${check.callId}#edited` };
  let decision = await gate.checkToolCall(editedCheck);
  if (decision.type === "escalate" && decision.escalationId !== undefined) {
    try {
      await gate.answerEscalation(decision.escalationId, {
        approved: true,
        ...by,
        reason: "approved as edited by a human",
      });
    } catch {
      // Unknown or gone: the re-check below decides (never an ALLOW without a record).
    }
    decision = await gate.checkToolCall(editedCheck);
  }
  return decision.type === "allow" ? { decision, edited: edited.args } : { decision };
}

async function checkModelCall(
  gate: GateKeeper,
  options: GateMiddlewareOptions,
  model: unknown,
  runtime: Runtime,
): Promise<Decision> {
  let target = "unknown";
  try {
    target = modelNameOf(model);
    const decision = await gate.check("llm_call", { target, context: contextOf(options, runtime) });
    if (decision.type !== "escalate") return decision;
    // A model call has no stable id to resume by, so it cannot wait for a human here.
    if (decision.escalationId !== undefined) {
      await settleQuietly(gate, decision.escalationId, "model calls cannot wait for approval in gateMiddleware");
    }
    return adapterDenial(
      gate,
      { action: "llm_call", target, code: "approval_error" },
      `${decision.reason}; model calls cannot wait for approval in gateMiddleware (give the GateKeeper an approvalHandler)`,
    );
  } catch (error) {
    return adapterDenial(
      gate,
      { action: "llm_call", target },
      `AgentGate could not check the model call: ${errorText(error)}`,
    );
  }
}

function blockedModelMessage(decision: Decision): AIMessage {
  return new AIMessage({
    content: `AgentGate blocked the model call: ${decision.reason}`,
    response_metadata: { agentgate: { ...decision } },
  });
}

/** Could this tool's rule escalate at all? Only then is the list of open escalations worth reading. */
function mayEscalate(gate: GateKeeper, toolName: string, mapping: ToolMapping | undefined): boolean {
  const entry = mapping && Object.prototype.hasOwnProperty.call(mapping, toolName) ? mapping[toolName] : undefined;
  const action = entry ? entry.action : "tool_use";
  return typeof action === "string" && gate.policy.mayEscalate(action);
}

async function pendingFor(gate: GateKeeper, callId: string): Promise<ReadonlySet<string>> {
  try {
    const pending = await gate.pendingEscalationFor(callId);
    return new Set(pending ? [pending.escalationId] : []);
  } catch {
    // Fail closed: with no list, no resume is accepted.
    return new Set();
  }
}

/** Settles an escalation as not approved so it does not linger; best effort. */
async function settleQuietly(
  gate: GateKeeper,
  escalationId: string,
  reason: string,
  approvedBy = "@agentgate/langchain",
): Promise<void> {
  try {
    await gate.resolveEscalation(escalationId, { approved: false, approvedBy, reason });
  } catch {
    // Already settled or gone: nothing to clean up.
  }
}

function contextOf(options: GateMiddlewareOptions, runtime: Runtime | undefined): Record<string, unknown> {
  const context: Record<string, unknown> = { framework: "langchain", ...options.context };
  const thread = runtime?.configurable?.thread_id;
  if (typeof thread === "string") context.threadId = thread;
  return context;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return "(arguments not serialisable)";
  }
}

function noCheckpointerReason(reason: string, escalationId: string): string {
  return (
    `${reason}; the agent has no checkpointer, so the run cannot pause for approval. Escalation ${escalationId} stays pending: ` +
    "answer it with gate.resolveEscalation and retry this tool call, or give createAgent a checkpointer (or the GateKeeper an approvalHandler)"
  );
}
