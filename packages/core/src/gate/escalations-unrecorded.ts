import { errorText } from "../errors/error-text.js";
import type { Decision } from "./decision.js";
import type { GateParts } from "./gate-parts.js";
import type { EscalationRecord, GateStore } from "./store.js";
import type { CheckRequest } from "./tool-call.js";

/**
 * How long after a call was recorded as ESCALATE its escalation may still be on its way to the
 * store, for stores that do not say (`GateStore.escalationWriteWindowMs`: `RedisStore` derives it
 * from its `commandTimeoutMs`, `MemoryStore` keeps it short). The gate that raises it records the
 * call (`consume`), then the escalation (`createEscalation`); if that write fails, it stores a
 * DENY on the call (`abandonEscalation`).
 *
 * The one rule for a repeat of an escalated call whose escalation the store does not have, with or
 * without an approval handler: until the store's window has passed since the call was raised, the
 * repeat re-reads the escalation (backing off from 10 ms); once found, it goes on as for any pending
 * escalation; still missing after that (never stored, or expired) it is an audited DENY
 * `approval_error`, never an ESCALATE that nobody could answer. A repeat of a call raised longer ago
 * reads once.
 */
export const ESCALATION_WRITE_WINDOW_MS = 2_000;

/** Longest single wait between two reads of a missing escalation. */
const MAX_POLL_MS = 500;

/**
 * The escalation of a repeated call under the rule of {@link ESCALATION_WRITE_WINDOW_MS} (with the store's window):
 * `undefined` when the store still does not have it. `raisedAt` and `now` are the gate's
 * clock; the waiting itself is real time, so a frozen test clock waits the window once, not forever.
 */
export async function escalationOfRepeat(
  store: GateStore,
  escalationId: string,
  raisedAt: number,
  now: number,
): Promise<EscalationRecord | undefined> {
  let record = await store.getEscalation(escalationId);
  const window = writeWindowOf(store);
  // Another process's clock may be ahead or behind: never more than one window.
  let left = Math.min(window, raisedAt + window - now);
  for (let wait = 10; !record && left > 0; wait = Math.min(2 * wait, MAX_POLL_MS)) {
    const step = Math.min(wait, left);
    await new Promise((resolve) => setTimeout(resolve, step));
    left -= step;
    record = await store.getEscalation(escalationId);
  }
  return record;
}

/** The store's `escalationWriteWindowMs` when it is a usable number, else the default. */
export function writeWindowOf(store: GateStore): number {
  const ms = store.escalationWriteWindowMs;
  return typeof ms === "number" && ms >= 0 && Number.isFinite(ms) ? ms : ESCALATION_WRITE_WINDOW_MS;
}

/**
 * `createEscalation` failed after `consume` recorded the call as ESCALATE: the DENY
 * (`store_unavailable`) is stored on the call record (`GateStore.abandonEscalation`), so a repeat
 * of the call gets it at once, and audited. A store without that method is asked to settle the
 * escalation as the DENY instead (it may have landed after all; if not, nothing changes), and repeats
 * fall under {@link ESCALATION_WRITE_WINDOW_MS}'s rule: a DENY `approval_error`, the reserved use kept.
 */
export async function abandonUnrecorded(
  gate: GateParts,
  req: CheckRequest,
  record: EscalationRecord,
  error: unknown,
): Promise<Decision> {
  const now = gate.clock();
  const reason = `state store unavailable, cannot record the escalation, failing closed: ${errorText(error)}`;
  const deny = gate.build.refusal(req, "store_unavailable", reason, now);
  const store = gate.store;
  try {
    if (store.abandonEscalation) await store.abandonEscalation(record, deny);
    else await store.settleEscalation(record.escalationId, deny, true);
  } catch {
    // The store is still failing: repeats fall under the rule above.
  }
  return gate.audit.record(deny, req, now);
}
