import { AgentGateError } from "@agentgate/core";

const MARKER = Symbol.for("agentgate.approvals.approval-timed-out");

/** Thrown into the gate by `waitForApproval` when nobody answered in time: the gate records a DENY saying so. */
export class ApprovalTimedOut extends AgentGateError {
  readonly [MARKER] = true;
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super("AGENTGATE_APPROVAL_TIMEOUT", `approval timed out (no answer within ${timeoutMs} ms)`);
    this.name = "ApprovalTimedOut";
    this.timeoutMs = timeoutMs;
  }

  static override isInstance(error: unknown): error is ApprovalTimedOut {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}
