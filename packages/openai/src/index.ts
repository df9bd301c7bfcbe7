/**
 * AgentGate for the plain `openai` SDK (7.x): gate function calls in
 * `runTools`, in hand-written Chat Completions / Responses loops, and model calls.
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
export { gateModelCalls, checkModelCall } from "./gate-model-calls.js";
export { verifyToolResults, type ForgedToolResult, type VerifiedHistory } from "./verify-tool-results.js";
export { ModelCallDeniedError } from "./model-call-denied-error.js";
export { ToolCallEscalatedError } from "./tool-call-escalated-error.js";
/** Finds the AgentGate error (e.g. `ToolCallEscalatedError`) inside the `OpenAIError` a runner wraps it in. */
export { findGateError } from "@agentgate/core";

export type { ToolFunction, ToolSetInput } from "./tool-set.js";
export type { ChatToolCallsInput, ResponsesToolCallsInput } from "./tool-calls.js";
