import { AgentGateError } from "@agentgate/core";

/**
 * What `gateMiddleware` passes to LangGraph's `interrupt()` when a tool call
 * needs a human. It arrives in `result.__interrupt__[i].value`. JSON-serialisable.
 */
export interface GateInterruptValue {
  type: "agentgate.approval";
  /** Answer this escalation: resume with `{ approved, approvedBy?, reason? }`. */
  escalationId: string;
  callId: string;
  toolName: string;
  args: unknown;
  /** The action and target the policy decided on. */
  action: string;
  target?: string;
  /** Why a human must decide. */
  reason: string;
  agent: { id: string; name: string };
}

/**
 * The resume value `gateMiddleware` accepts: the shape `resolveEscalation`
 * takes. `escalationId` is optional; when given it must be the escalation of
 * the interrupt being answered, which binds an answer to one call. Anything
 * else counts as not approved.
 */
export type GateResumeValue =
  | boolean
  | { approved: boolean; approvedBy?: string; reason?: string; escalationId?: string };

/** True for the interrupt values `gateMiddleware` raises. */
export function isGateInterrupt(value: unknown): value is GateInterruptValue {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "agentgate.approval" &&
    typeof (value as { escalationId?: unknown }).escalationId === "string"
  );
}

/** The escalation a resume value names, if it names one. */
export function resumeEscalationId(resume: unknown): string | undefined {
  if (typeof resume !== "object" || resume === null || Array.isArray(resume)) return undefined;
  const id = (resume as { escalationId?: unknown }).escalationId;
  return id === undefined ? undefined : String(id);
}

/** LangGraph's error for an interrupt in a graph compiled without a checkpointer. */
export function isMissingCheckpointer(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { lc_error_code?: unknown }).lc_error_code === "MISSING_CHECKPOINTER";
}

const marker = "agentgate.error.CheckpointerRequiredError";
const symbol = Symbol.for(marker);

/** Thrown by `gateMiddleware` when a tool call needs approval and the agent has no checkpointer. */
export class CheckpointerRequiredError extends AgentGateError {
  private readonly [symbol] = true;
  declare readonly code: "AGENTGATE_CHECKPOINTER_REQUIRED";

  constructor(toolName: string, options?: { cause?: unknown }) {
    super(
      "AGENTGATE_CHECKPOINTER_REQUIRED",
      `@agentgate/langchain: tool ${JSON.stringify(toolName)} needs human approval, and gateMiddleware asks for it with a ` +
        "LangGraph interrupt, which requires a checkpointer. Pass one to createAgent (e.g. " +
        "createAgent({ ..., checkpointer: new MemorySaver() })) and a thread_id in the config, or give the GateKeeper " +
        "an approvalHandler. The tool did not run.",
      options,
    );
    this.name = "CheckpointerRequiredError";
  }

  static override isInstance(error: unknown): error is CheckpointerRequiredError {
    return AgentGateError.hasMarker(error, marker);
  }
}
