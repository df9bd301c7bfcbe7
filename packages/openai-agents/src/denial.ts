import { deniedToolResult, type Decision, type DecisionCode, type DeniedToolResult } from "@agentgate/core";

/**
 * @deprecated Denials carry core's `DecisionCode` (`invalid_input` for unreadable arguments,
 * `internal_error` for a failure, `approval_denied` for a rejected approval).
 */
export type LocalDenialCode = DecisionCode;

/** Why a gated tool call did not run. Given to `deniedOutput`. */
export interface ToolDenial {
  /** The tool's name. */
  toolName: string;
  /** The model's call id, when the SDK passed it on. */
  callId?: string;
  /** Plain-words reason, as the model reads it. */
  reason: string;
  /** The gate's decision; absent when the SDK refused the call without asking the gate. */
  decision?: Decision;
  /** Core's decision code: the decision's, else what the SDK's refusal stands for. */
  code?: DecisionCode;
  /** What the SDK passed to the tool's `errorFunction`, if it came from there. */
  error?: unknown;
}

/**
 * The JSON the model reads in place of a result when a gated call was refused.
 * @deprecated Use `DeniedToolResult` from `@agentgate/core` (the same shape; `isDeniedToolResult` tells it apart).
 */
export type DeniedToolOutput = DeniedToolResult;

/** The model-facing payload for a denial: core's `deniedToolResult`, with the denial's own reason. */
export function deniedOutputFor(denial: ToolDenial): DeniedToolResult {
  if (!denial.decision)
    return { denied: true, decision: "deny", code: denial.code ?? "internal_error", reason: denial.reason };
  return { ...deniedToolResult(denial.decision), reason: denial.reason };
}
