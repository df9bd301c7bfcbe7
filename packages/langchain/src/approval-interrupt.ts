import { AgentGateError } from "@agentgate/core";

/** One action a human reviews, as in LangChain's `HITLRequest`. */
export interface GateActionRequest {
  name: string;
  args: Record<string, unknown>;
  description: string;
}

/** What a human may answer, as in LangChain's `HITLRequest`. */
export interface GateReviewConfig {
  actionName: string;
  allowedDecisions: ("approve" | "edit" | "reject")[];
}

/**
 * What `gateMiddleware` passes to LangGraph's `interrupt()` when a tool call
 * needs a human. It arrives in `result.__interrupt__[i].value`. JSON-serialisable.
 * It is a LangChain 1.x `HITLRequest` (`actionRequests`/`reviewConfigs`, one
 * action: this call), so `humanInTheLoopMiddleware` UIs can answer it, plus
 * AgentGate's own fields.
 */
export interface GateInterruptValue {
  actionRequests: [GateActionRequest];
  reviewConfigs: [GateReviewConfig];
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

/** A decision of LangChain's `HITLResponse`. */
export type GateHitlDecision =
  | { type: "approve" }
  | { type: "edit"; editedAction: { name: string; args: Record<string, unknown> } }
  | { type: "reject"; message?: string };

/**
 * The resume values `gateMiddleware` accepts: LangChain's `HITLResponse`
 * (`{ decisions: [one decision] }`), or the shape `resolveEscalation` takes.
 * `escalationId` is optional; when given it must be the escalation of the
 * interrupt being answered, which binds an answer to one call. Anything else
 * counts as not approved.
 */
export type GateResumeValue =
  | boolean
  | { approved: boolean; approvedBy?: string; reason?: string; escalationId?: string }
  | { decisions: [GateHitlDecision]; approvedBy?: string; escalationId?: string };

/** A resume value read: what to record, and the edited call when the human edited it. */
export interface ReadResume {
  resolution: unknown;
  edited?: { name: string; args: Record<string, unknown> };
}

/**
 * Reads a resume value (untrusted). HITL decisions become the core's approval
 * shape; a malformed HITL answer becomes a rejection saying why.
 */
export function readResume(resume: unknown): ReadResume {
  if (
    typeof resume !== "object" ||
    resume === null ||
    Array.isArray(resume) ||
    !Object.prototype.hasOwnProperty.call(resume, "decisions")
  ) {
    return { resolution: resume };
  }
  // Own properties only: nothing is read through a (possibly polluted) prototype.
  const approvedBy = own(resume, "approvedBy");
  const by = typeof approvedBy === "string" ? { approvedBy } : {};
  const decisions = own(resume, "decisions");
  if (!Array.isArray(decisions) || decisions.length !== 1) {
    return {
      resolution: {
        approved: false,
        ...by,
        reason: "malformed HITL response: expected exactly one decision for this tool call",
      },
    };
  }
  const d: unknown = decisions[0];
  const type = own(d, "type");
  if (type === "approve") return { resolution: { approved: true, ...by } };
  if (type === "reject") {
    const message = own(d, "message");
    return {
      resolution: {
        approved: false,
        ...by,
        reason: typeof message === "string" && message !== "" ? message : "rejected by a human",
      },
    };
  }
  if (type === "edit") {
    const action = own(d, "editedAction");
    const name = own(action, "name");
    const args = own(action, "args");
    if (typeof name === "string" && typeof args === "object" && args !== null && !Array.isArray(args)) {
      return { resolution: { approved: true, ...by }, edited: { name, args: args as Record<string, unknown> } };
    }
    return {
      resolution: {
        approved: false,
        ...by,
        reason: "malformed HITL edit: editedAction needs a name and an args object",
      },
    };
  }
  return {
    resolution: {
      approved: false,
      ...by,
      reason: "malformed HITL response: decision type must be approve, edit or reject",
    },
  };
}

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
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { lc_error_code?: unknown }).lc_error_code === "MISSING_CHECKPOINTER"
  );
}

const marker = "agentgate.error.CheckpointerRequiredError";
const symbol = Symbol.for(marker);

/**
 * @deprecated No longer thrown: without a checkpointer, `gateMiddleware` refuses
 * an escalated call like `gateTools` and `GateCallbackHandler` do (the model
 * reads why; the escalation stays pending). Kept so existing imports compile.
 */
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

function own(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.prototype.hasOwnProperty.call(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
