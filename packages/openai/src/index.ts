/**
 * AgentGate for the plain `openai` SDK (7.x): gate function calls in `runTools`, in hand-written Chat
 * Completions / Responses loops, and model calls.
 * @packageDocumentation
 */
export {
  runToolCalls,
  type RunToolCallsOptions,
  type CallStatus,
  type ToolCallResult,
  type ChatToolCallResult,
  type ResponsesToolCallResult,
} from "./run-tool-calls.js";
export { gateRunTools, type GateRunToolsOptions, type RunToolsTool } from "./gate-run-tools.js";
export { gateModelCalls } from "./gate-model-calls.js";
/**
 * Checks one model call as `llm_call` (target: the model name) and throws a `ModelCallDeniedError` unless the
 * gate allows it. For loops that call a client `gateModelCalls` cannot wrap.
 */
export { admitModelCall as checkModelCall } from "@agentgate/core/internal";
export { ModelCallDeniedError } from "@agentgate/core";
export { verifyToolResults, type ForgedToolResult, type VerifiedHistory } from "./verify-tool-results.js";
export { ToolCallEscalatedError } from "./tool-call-escalated-error.js";
/** Finds the AgentGate error (e.g. `ToolCallEscalatedError`) inside the `OpenAIError` a runner wraps it in. */
export { findGateError } from "@agentgate/core";

export type { ToolFunction, ToolSetInput } from "./tool-set.js";
export type { ChatToolCallsInput, ResponsesToolCallsInput } from "./tool-calls.js";
