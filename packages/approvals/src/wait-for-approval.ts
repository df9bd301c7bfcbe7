import { ApprovalTimedOut } from "./approval-timed-out.js";
import {
  hasEscalationEvents,
  type ApprovalHandler,
  type EscalationEvents,
  type ApprovalRequest,
  type ApprovalResolution,
  type GateStore,
} from "@agentgate/core";

/** Options of {@link waitForApproval}. */
export interface WaitForApprovalOptions {
  /** The store the gate and the approval server share (`RedisStore`, or the same `MemoryStore` in one process). */
  store: GateStore;
  /** Give up after this long with "approval timed out". Keep it below the gate's `approvalTimeoutMs`. */
  timeoutMs: number;
  /**
   * A safety re-read of the escalation, default every 5000 ms, in case a
   * notification was lost (a reconnect); answers normally arrive by event.
   */
  recheckMs?: number;
}

/**
 * An `approvalHandler` that waits until the escalation is answered anywhere —
 * the inbox, the JSON API, another process's `gate.resolveEscalation` — by
 * listening to the store's settle events (Redis pub/sub, or an in-process
 * event for `MemoryStore`), not by polling. It returns the settled answer;
 * the gate then keeps the decision already in the store. At `timeoutMs` it
 * fails with "approval timed out", which the gate records as a DENY.
 *
 * @example
 * ```ts
 * const gate = new GateKeeper({ identity, policy, store, grants: store,
 *   approvalHandler: waitForApproval({ store, timeoutMs: 10 * 60_000 }) });
 * ```
 */
export function waitForApproval(options: WaitForApprovalOptions): ApprovalHandler {
  const { store, timeoutMs } = options;
  if (!store || typeof store.getEscalation !== "function") throw new TypeError("waitForApproval needs { store }");
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0))
    throw new TypeError("waitForApproval: timeoutMs must be a positive number");
  const recheckMs = options.recheckMs ?? 5000;
  return (request: ApprovalRequest) => wait(store, request.escalationId, timeoutMs, recheckMs);
}

/** Subscribes within 2 s, or not at all (then the safety re-reads find the answer): never a hang. */
async function listen(store: EscalationEvents, listener: (id: string) => void): Promise<(() => void) | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const subscribed = Promise.resolve().then(() => store.onEscalationSettled(listener));
    return await Promise.race([
      subscribed,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 2000))),
    ]).then((stop) => {
      if (stop === undefined) {
        // A subscription that arrives after giving up is undone at once.
        subscribed.then(
          (s) => s(),
          () => {},
        );
      }
      return stop;
    });
  } catch {
    return undefined;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function wait(store: GateStore, id: string, timeoutMs: number, recheckMs: number): Promise<ApprovalResolution> {
  let wake: () => void = () => {};
  let stop: (() => void) | undefined;
  const deadline = Date.now() + timeoutMs;
  try {
    // Listen first, then read: a settle between the two is never missed.
    if (hasEscalationEvents(store)) stop = await listen(store, (settled) => settled === id && wake());
    for (;;) {
      const record = await store.getEscalation(id);
      if (!record) throw new Error(`escalation ${id} is gone from the store`);
      if (record.status !== "pending") {
        const d = record.settled;
        const out: ApprovalResolution = { approved: record.status === "approved" };
        if (d?.approvedBy) out.approvedBy = d.approvedBy;
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new ApprovalTimedOut(timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, recheckMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stop?.();
  }
}
