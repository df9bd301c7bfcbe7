import { deniedToolResult, type Decision, type DeniedToolResult } from "@agentgate/core";

/** Why a call never reached the gate, or was refused outside it. */
export type LocalDenialCode =
  /** The argument string was not JSON or did not fit the tool's input schema. */
  | "invalid_arguments"
  /** Checking the gate failed unexpectedly (fail closed). */
  | "gate_error"
  /** The SDK refused the call before execution (e.g. a rejected approval). */
  | "not_executed";

/** Why a gated tool call did not run. Given to `deniedOutput`. */
export interface ToolDenial {
  /** The tool's name. */
  toolName: string;
  /** The model's call id, when the SDK passed it on. */
  callId?: string;
  /** Plain-words reason, as the model reads it. */
  reason: string;
  /** The gate's decision; absent when the call never reached the gate. */
  decision?: Decision;
  /** Set when there is no decision. */
  code?: LocalDenialCode;
  /** What the SDK passed to the tool's `errorFunction`, if it came from there. */
  error?: unknown;
}

/**
 * The JSON the model reads in place of a result when a gated call was refused.
 * @deprecated Use `DeniedToolResult` from `@agentgate/core` (the same shape; `isDeniedToolResult` tells it apart).
 */
export type DeniedToolOutput = DeniedToolResult;

/** The model-facing payload for a denial: core's `deniedToolResult` when there is a decision. */
export function deniedOutputFor(denial: ToolDenial): DeniedToolResult {
  if (denial.decision) {
    const base = deniedToolResult(denial.decision);
    return base.reason === denial.reason ? base : { ...base, reason: denial.reason };
  }
  return { denied: true, decision: "deny", code: denial.code ?? "not_executed", reason: denial.reason };
}
