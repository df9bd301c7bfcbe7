/**
 * AgentGate for the OpenAI Agents SDK: gate function tools (with native
 * approval interruptions for escalations) and model calls.
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
export type { ToolDenial, DeniedToolOutput, LocalDenialCode } from "./denial.js";
