import { errorText, type PausedCallQuestion } from "@agentgate/core/internal";

/**
 * What `gateMiddleware` passes to LangGraph's `interrupt()` when a tool call
 * needs a human. It arrives in `result.__interrupt__[i].value`. JSON-serialisable.
 * It is a LangChain 1.x `HITLRequest` (`actionRequests`/`reviewConfigs`, one
 * action: this call), so `humanInTheLoopMiddleware` UIs can answer it, plus
 * AgentGate's own fields (`escalationId`, `callId`, `toolName`, `args`,
 * `action`, `target`, `reason`, `agent`).
 */
export interface GateInterruptValue extends PausedCallQuestion {
  type: "agentgate.approval";
}

/** True for the interrupt values `gateMiddleware` raises. */
export function isGateInterrupt(value: unknown): value is GateInterruptValue {
  const v = value as Partial<GateInterruptValue> | null | undefined;
  return v?.type === "agentgate.approval" && typeof v.escalationId === "string";
}

/**
 * Why LangGraph could not pause the run, for the refusal the model reads (like `gateTools` and
 * `GateCallbackHandler`, the escalation stays pending); undefined for LangGraph's own pause
 * signals (`GraphInterrupt` and other bubble-ups), which must propagate.
 */
export function whyCannotPause(error: unknown): string | undefined {
  const e = error as { is_bubble_up?: unknown; lc_error_code?: unknown } | null | undefined;
  if (e?.is_bubble_up === true) return undefined;
  if (e?.lc_error_code !== "MISSING_CHECKPOINTER") return errorText(error);
  return (
    "the agent has no checkpointer, so the run cannot pause for approval; the escalation stays pending: answer it with " +
    "gate.resolveEscalation and retry this tool call, or give createAgent a checkpointer (or the GateKeeper an approvalHandler)"
  );
}
