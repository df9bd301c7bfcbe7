import { errorText } from "../errors/error-text.js";
import { EscalationError } from "../errors/escalation-error.js";
import { toolMayEscalate } from "./framework-approval.js";
import type { ApprovalResolution } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { pausedCallQuestion, type PausedCallQuestion } from "./paused-call-question.js";
import { readResumeAnswer } from "./resume-answer.js";
import { quote, type ToolCall } from "../gate/tool-call.js";

// Approvals through a framework's own pause and resume (LangGraph interrupts and the like): the
// adapter pauses the run and hands back the resume value; what the answer means is decided here.

/** What to act on once a paused call is answered; `edited`: run it with these arguments instead. */
export interface PausedCallOutcome {
  decision: Decision;
  edited?: Record<string, unknown>;
}

/** How a framework pauses a run for a human; see `checkPausableToolCall`. */
export interface PauseChannel {
  /**
   * Asks the human: returns (or resolves) the resume value once answered. To pause the run it
   * throws the framework's own signal.
   */
  pause: (question: PausedCallQuestion) => unknown;
  /**
   * For an error `pause` threw: why the run cannot pause at all (the call is refused, its escalation
   * left pending), or undefined for the framework's pause signal, which is rethrown as is.
   */
  cannotPause: (error: unknown) => string | undefined;
  /** An approval the framework's own human-in-the-loop step already gave this very call: recorded instead of asking again. */
  priorApproval?: () => Promise<ApprovalResolution | undefined>;
}

/** Carries the framework's pause signal past the fail-closed catch. */
class PauseSignal {
  constructor(readonly error: unknown) {}
}

/**
 * Checks a tool call right before it runs (set `call.execute`), pausing the run for a human when
 * it escalates and the gate has no inline approval handler: `pause` asks, the resume value is
 * verified and recorded (see `answerPausedCall`), and only the gate's own record allows the call.
 * A call without an id cannot be found again on resume, so it is refused. Never rejects except
 * with the framework's pause signal: any failure is an audited DENY.
 */
export async function checkPausableToolCall(
  gate: GateKeeper,
  call: ToolCall,
  channel: PauseChannel,
): Promise<PausedCallOutcome> {
  try {
    const openBefore = await escalationOpenBefore(gate, call);
    const decision = await gate.checkToolCall(call);
    const { callId } = call;
    const id = decision.escalationId;
    if (decision.type !== "escalate") return { decision };
    if (callId === undefined || id === undefined) {
      return {
        decision: await refuseToWait(gate, decision, "the tool call has no id, so it cannot wait for approval"),
      };
    }
    const prior = await channel.priorApproval?.().catch(() => undefined);
    if (prior) return { decision: await approveAndRecheck(gate, call, id, prior) };
    let resume: unknown;
    try {
      // First pass: the framework pauses the run (a throw). On resume: the answer.
      resume = await channel.pause(pausedCallQuestion({ ...call, callId }, decision));
    } catch (error) {
      const why = channel.cannotPause(error);
      if (why === undefined) throw new PauseSignal(error);
      return { decision: await refuseToWait(gate, decision, why, true) };
    }
    return await answerPausedCall(gate, call, decision, openBefore, resume);
  } catch (error) {
    if (error instanceof PauseSignal) throw error.error;
    const reason = `AgentGate could not check tool ${quote(call.toolName)}: ${errorText(error)}`;
    return { decision: gate.refuse("tool_use", reason, { target: call.toolName, callId: call.callId }) };
  }
}

/**
 * Before checking a call that may pause for a human: the escalation already open for it, which a
 * resume may answer (never one the check itself opens). Undefined when the call cannot pause (no
 * id, an inline approval handler, a rule that never escalates) or the lookup fails: no resume counts.
 */
export async function escalationOpenBefore(gate: GateKeeper, call: ToolCall): Promise<string | undefined> {
  if (call.callId === undefined || gate.hasApprovalHandler || !toolMayEscalate(gate, call.toolName, call.mapping)) {
    return undefined;
  }
  try {
    return (await gate.pendingEscalationFor(call.callId))?.escalationId;
  } catch {
    return undefined;
  }
}

/**
 * Records a human's answer (an untrusted resume value, see `readResumeAnswer`) to `escalation`,
 * raised by checking `call`, and returns what to act on. The answer counts only for the escalation
 * that was open before this check (`openBefore`) and when it names no other; only the gate's own
 * record, re-checked, allows the call. An edit settles the call as not approved and checks the
 * edited one as a new call (`<callId>#edited`), which the edit approves if it escalates.
 */
export async function answerPausedCall(
  gate: GateKeeper,
  call: ToolCall,
  escalation: Decision,
  openBefore: string | undefined,
  resume: unknown,
): Promise<PausedCallOutcome> {
  const id = escalation.escalationId;
  const answer = readResumeAnswer(resume);
  const named = answer.escalationId;
  if (id === undefined || id !== openBefore || (named !== undefined && named !== id)) {
    const why =
      named !== undefined && named !== id
        ? `the resume value answers escalation ${quote(named)}, not ${quote(id)}`
        : "the resume value does not answer an escalation this gate issued for this call";
    const reason = `approval refused: ${why}`;
    return { decision: await refuseEscalated(gate, escalation, reason, reason) };
  }
  const edited = answer.edited;
  if (edited === undefined) {
    try {
      await gate.resolveEscalation(id, answer.resolution as ApprovalResolution);
    } catch (error) {
      // Settled elsewhere first (another approver, a timeout): the gate's record decides below.
      if (!EscalationError.isInstance(error)) throw error;
    }
    return { decision: await gate.checkToolCall(call) };
  }
  const approvedBy = (answer.resolution as { approvedBy?: string }).approvedBy;
  await settle(gate, id, "a human edited the call; the edited call was checked on its own", approvedBy);
  if (edited.name !== call.toolName) {
    const reason = `an edit may change the arguments of ${quote(call.toolName)}, not turn it into ${quote(edited.name)}`;
    return { decision: gate.refuse("tool_use", reason, refuseOptions({ ...escalation, target: call.toolName })) };
  }
  const editedCall: ToolCall = { ...call, input: edited.args, callId: `${call.callId}#edited` };
  let decision = await gate.checkToolCall(editedCall);
  if (decision.type === "escalate" && decision.escalationId !== undefined) {
    const approval = { approved: true, reason: "approved as edited by a human", ...(approvedBy && { approvedBy }) };
    decision = await approveAndRecheck(gate, editedCall, decision.escalationId, approval);
  }
  return decision.type === "allow" ? { decision, edited: edited.args } : { decision };
}

/**
 * Records an approval the framework collected itself (e.g. its own human-in-the-loop step) for
 * an open escalation, then re-checks the call: only the gate's record can allow it.
 */
export async function approveAndRecheck(
  gate: GateKeeper,
  call: ToolCall,
  escalationId: string,
  approval: ApprovalResolution,
): Promise<Decision> {
  try {
    await gate.answerEscalation(escalationId, approval);
  } catch {
    // Unknown or gone: the re-check decides (never an ALLOW without a record).
  }
  return gate.checkToolCall(call);
}

/**
 * An audited DENY for an escalated action that cannot wait for its human here (no call id, no
 * way to pause): the policy's reason, then `why`. The escalation is settled as not
 * approved, unless `keepPending` (it can still be answered, and the call retried).
 */
export function refuseToWait(
  gate: GateKeeper,
  escalation: Decision,
  why: string,
  keepPending = false,
): Promise<Decision> {
  return refuseEscalated(gate, escalation, `${escalation.reason}; ${why}`, keepPending ? undefined : why);
}

/** Refuses an escalated call; `settleReason`: also settle its escalation as not approved, saying so. */
async function refuseEscalated(
  gate: GateKeeper,
  escalation: Decision,
  reason: string,
  settleReason: string | undefined,
): Promise<Decision> {
  if (settleReason !== undefined && escalation.escalationId !== undefined) {
    await settle(gate, escalation.escalationId, settleReason);
  }
  return gate.refuse(escalation.action, reason, refuseOptions(escalation));
}

function refuseOptions(d: Pick<Decision, "target" | "callId">) {
  return { target: d.target, callId: d.callId, code: "approval_error" as const };
}

/** Settles an escalation as not approved so it does not linger; best effort. */
async function settle(gate: GateKeeper, escalationId: string, reason: string, approvedBy = "AgentGate"): Promise<void> {
  try {
    await gate.resolveEscalation(escalationId, { approved: false, approvedBy, reason });
  } catch {
    // Already settled or gone: nothing to clean up.
  }
}
