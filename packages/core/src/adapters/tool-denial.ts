import { errorText } from "../errors/error-text.js";
import { deniedToolResult, type DeniedToolResult } from "../gate/approval.js";
import type { Decision, DecisionCode } from "../gate/decision.js";
import { deniedToolResultIn } from "./denied-tool-result-text.js";

/** Why a gated tool call did not run: what an adapter's `deniedOutput` option is given. */
export interface ToolDenial {
  /** The tool's name. */
  toolName: string;
  /** The model's call id, when the framework passed it on. */
  callId?: string;
  /** Plain-words reason, as the model reads it. */
  reason: string;
  /** The gate's decision; absent when the framework refused the call without asking the gate. */
  decision?: Decision;
  /** Core's decision code: the decision's, else what the framework's refusal stands for. */
  code?: DecisionCode;
  /** What the framework passed to the tool's error callback, if it came from there. */
  error?: unknown;
}

/** The denial for a refused call; an ESCALATE nobody answered says that a human must approve it. */
export function toolDenialOf(decision: Decision, toolName: string, callId: string | undefined): ToolDenial {
  const reason =
    decision.type === "escalate"
      ? `${decision.reason} (a human must approve this call and AgentGate has no recorded approval for it)`
      : decision.reason;
  return { toolName, ...(callId !== undefined ? { callId } : {}), reason, code: decision.code, decision };
}

/**
 * The denial for a call a framework refused on its own and reported as an error: a denial an
 * adapter passed through as JSON text (e.g. a rejection message), a human's rejection
 * (`rejected`), or else a failure.
 */
export function toolDenialFromError(
  error: unknown,
  call: { toolName: string; callId?: string | undefined; rejected: boolean },
): ToolDenial {
  const passed = deniedToolResultIn(error instanceof Error ? error.message : error);
  const code = (passed?.code ?? (call.rejected ? "approval_denied" : "internal_error")) as DecisionCode;
  const callId = call.callId !== undefined ? { callId: call.callId } : {};
  return { toolName: call.toolName, ...callId, reason: passed?.reason ?? errorText(error), code, error };
}

/** What the model reads for a denial: core's `deniedToolResult`, with the denial's own reason. */
export function deniedOutputFor(denial: ToolDenial): DeniedToolResult {
  if (!denial.decision)
    return { denied: true, decision: "deny", code: denial.code ?? "internal_error", reason: denial.reason };
  return { ...deniedToolResult(denial.decision), reason: denial.reason };
}
