import type { ApprovalHandler, GateStore } from "@agentgate/core";

/** How much longer the gate's own approval timer runs than the inbox wait, so the wait's "approval timed out" is what is recorded. */
export const INBOX_GRACE_MS = 1000;

/**
 * The approval inbox as an `ApprovalHandler`: `waitForApproval({ store, timeoutMs })` from
 * `@agentgate/approvals`, loaded only when a proxy has a store (it brings the inbox's web stack).
 * A missing package is a start-up error that says what to install, never a silent DENY later.
 */
export async function inboxApprovalHandler(store: GateStore, timeoutMs: number): Promise<ApprovalHandler> {
  let approvals: typeof import("@agentgate/approvals");
  try {
    approvals = await import("@agentgate/approvals");
  } catch (error) {
    throw new Error(
      `--store needs @agentgate/approvals to wait for answers from the approval inbox, and it cannot be loaded (${error instanceof Error ? error.message : String(error)}): npm install @agentgate/approvals`,
    );
  }
  // The same store the gate uses, so `agentgate serve` on it lists these escalations and its answers reach this wait.
  return approvals.waitForApproval({ store, timeoutMs });
}

/** True for the error `waitForApproval` throws at its timeout (`ApprovalTimedOut`), recognised without loading the package. */
export function isApprovalTimedOut(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[Symbol.for("agentgate.approvals.approval-timed-out")] === true
  );
}
