import { errorText } from "@agentgate/core/internal";
import type { Decision, GateKeeper } from "@agentgate/core";
import type { RunContext } from "@openai/agents-core";

/** A call approved with the SDK's `state.approve(item)`, given to the `approvedBy` option of `gateTools`. */
export interface NativeApproval {
  toolName: string;
  callId: string;
  input: unknown;
  runContext: RunContext<any>;
}

/** The options of `gateTools` that decide what a native approval means. */
export interface NativeApprovalOptions {
  runState?: "trusted" | "untrusted";
  approvedBy?: (call: NativeApproval) => string | undefined | Promise<string | undefined>;
}

/** True when the run state says `state.approve(item)` was called for this call. */
export function approvedInRunState(context: RunContext<any> | undefined, toolName: string, callId: string): boolean {
  try {
    return context?.isToolApproved({ toolName, callId }) === true;
  } catch {
    return false;
  }
}

/**
 * A call the gate escalated was approved with `state.approve(item)`. With a
 * trusted run state that is the human's answer: record it in the gate (the
 * audit says who), then re-check. With an untrusted one it counts for nothing.
 */
export async function honourNativeApproval(
  gate: GateKeeper,
  options: NativeApprovalOptions,
  call: NativeApproval,
  escalated: Decision,
  recheck: () => Promise<Decision>,
): Promise<Decision> {
  if (options.runState === "untrusted" || !escalated.escalationId) return escalated;
  let approvedBy: string | undefined;
  try {
    approvedBy = options.approvedBy ? await options.approvedBy(call) : undefined;
  } catch (error) {
    return gate.refuse(escalated.action, `the approvedBy option failed: ${errorText(error)}`, {
      ...(escalated.target !== undefined ? { target: escalated.target } : {}),
      callId: call.callId,
      code: "approval_error",
    });
  }
  try {
    const settled = await gate.answerEscalation(escalated.escalationId, {
      approved: true,
      ...(typeof approvedBy === "string" && approvedBy !== "" ? { approvedBy } : {}),
      reason: "approved with the SDK's state.approve()",
    });
    if (settled.type !== "allow") return settled;
  } catch (error) {
    return gate.refuse(
      escalated.action,
      `could not record the approval given with state.approve(): ${errorText(error)}`,
      {
        ...(escalated.target !== undefined ? { target: escalated.target } : {}),
        callId: call.callId,
        code: "approval_error",
      },
    );
  }
  return recheck();
}
