/**
 * AgentGate for the OpenAI Agents SDK: gate function tools (with native approval interruptions for escalations)
 * and model calls.
 * @packageDocumentation
 */
export {
  gateTools,
  GATE_GUARDRAIL_NAME,
  type GateableTools,
  type GateToolsOptions,
  type NativeApproval,
} from "./gate-tools.js";
export {
  resolveGateInterruptions,
  type ApprovalDecider,
  type GateInterruptionOutcome,
  type InterruptedRun,
} from "./resolve-gate-interruptions.js";
export { gateModel, gateModelProvider, type GateModelOptions } from "./gate-model.js";
export type { ToolDenial } from "@agentgate/core";
import type { DecisionCode, DeniedToolResult } from "@agentgate/core";

/** @deprecated Denials carry core's `DecisionCode` (`invalid_input`, `internal_error`, `approval_denied`, ...). */
export type LocalDenialCode = DecisionCode;

/** @deprecated Use `DeniedToolResult` from `@agentgate/core` (the same shape; `isDeniedToolResult` tells it apart). */
export type DeniedToolOutput = DeniedToolResult;
