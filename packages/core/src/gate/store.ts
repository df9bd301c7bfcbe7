import type { ApprovalRequest } from "./approval.js";
import type { Decision } from "./decision.js";

/** May be synchronous (in-process stores) or asynchronous (network stores). */
export type MaybePromise<T> = T | Promise<T>;

/** Outcome of the stateful part of a check. */
export type ConsumeOutcome = "allow" | "escalate" | "deny_after" | "rate_limit";

/**
 * One atomic check-and-reserve. Everything a store needs travels in the
 * request, so a network store can do it in one round trip.
 */
export interface ConsumeRequest {
  /** Whose counter: the policy, agent and action. */
  scope: { policy: string; agentId: string; action: string };
  /** `scope` joined into one string, for stores that want a flat key. */
  key: string;
  /** Epoch milliseconds from the gate's clock. */
  now: number;
  /** The sliding window for `maxPerMinute`, in ms (60 000). */
  windowMs: number;
  maxPerMinute?: number;
  denyAfter?: number;
  escalateAfter?: number;
  /** The static policy already escalates (require_approval or an escalate target). */
  escalate: boolean;
  /** Pre-generated so a repeat of the same call rebuilds the very same decision. */
  decisionId: string;
  escalationId: string;
  /** Idempotency: present when the check carries a `callId`. */
  call?: {
    key: string;
    /** Canonical form of (action, target, args): the same call id with another input is refused. */
    fingerprint: string;
    ttlMs: number;
    /**
     * The caller runs the call right after an ALLOW. When the call's effective
     * outcome is ALLOW (allowed, or an approved escalation), mark it executed;
     * a repeat returns `executed` as it was before this request.
     */
    execute?: boolean;
    /**
     * How long, from `now`, a call marked executed is remembered (its record
     * then lives until the later of its `ttlMs` and this), so a replay after
     * the approval expired is still refused. Default `ttlMs`.
     */
    runTtlMs?: number;
  };
}

/** Claims the one run of a recorded call whose effective outcome is ALLOW (an approved escalation). */
export interface ClaimRequest {
  /** The call's owner: stores that shard by policy and agent use it. */
  scope: { policy: string; agentId: string };
  /** The call key, as in `ConsumeRequest.call.key`. */
  key: string;
  /** The input the caller is about to run: another input never claims the record. */
  fingerprint: string;
  /** Epoch milliseconds from the gate's clock. */
  now: number;
  /** How long from `now` the executed mark is kept (see `ConsumeRequest.call.runTtlMs`). */
  runTtlMs: number;
}

/**
 * The result of `claimCall`: `claimed` for exactly one caller; `replayed` when
 * the call already ran; `mismatch` for another input; `not_allowed` when the
 * record's effective outcome is not ALLOW; `unknown` when there is no live record.
 */
export type ClaimResult = "claimed" | "replayed" | "mismatch" | "not_allowed" | "unknown";

/** What the gate needs to rebuild the original decision of a repeated call. */
export interface CallRecord {
  outcome: ConsumeOutcome;
  used: number;
  retryAfterMs?: number;
  decisionId: string;
  escalationId: string;
  /** Epoch ms of the original decision. */
  at: number;
  fingerprint: string;
  /** The settled decision, once its escalation was resolved. */
  settled?: Decision;
  /** Set once a check with `call.execute` got an ALLOW for this call: it ran. */
  executed?: boolean;
  fallback?: boolean;
}

/**
 * The result of `consume`. When the call was seen before, `repeat` carries the
 * original record (with `mismatch` when the input differs) and nothing is counted.
 */
export interface ConsumeResult {
  outcome: ConsumeOutcome;
  /**
   * Uses counted before this one (including pending reservations). Stores count
   * uses only for requests with `denyAfter` or `escalateAfter`; otherwise 0.
   */
  used: number;
  retryAfterMs?: number;
  repeat?: CallRecord & { mismatch: boolean };
  /** The store could not reach shared state and decided with in-process limits. */
  fallback?: boolean;
}

/** A pending or settled escalation, as a store keeps it. */
export interface EscalationRecord {
  escalationId: string;
  status: "pending" | "approved" | "denied";
  request: ApprovalRequest;
  /** The ESCALATE decision that opened it. */
  decision: Decision;
  /** The counter reservation to release when it is not approved. */
  reservation?: { key: string; scope: ConsumeRequest["scope"]; member: string; at: number };
  callKey?: string;
  createdAt: number;
  /** After this, an approval no longer counts. */
  expiresAt: number;
  settled?: Decision;
}

/**
 * Narrows `listEscalations` to what one gate needs, so a store with an index
 * answers in O(page) whatever other agents have pending. Stores may ignore
 * parts they cannot index: the gate filters, orders and cuts the result again.
 */
export interface EscalationQuery {
  /** Only escalations raised under this policy for this agent (one gate's). */
  scope?: { policy: string; agentId: string };
  /** Only the escalation of this call (the gate's `callKey`; within `scope`). */
  callKey?: string;
  /** At most this many, ordered by `(expiresAt, escalationId)`. */
  limit?: number;
  /** Resume after this escalation (the last of the previous page). */
  after?: { escalationId: string; expiresAt: number };
}

/** The result of `settleEscalation`: exactly one caller wins. */
export type SettleResult =
  | { ok: true; record: EscalationRecord }
  | { ok: false; reason: "unknown" | "settled"; record?: EscalationRecord };

/**
 * State behind `GateKeeper`: counters, per-call records and escalations.
 * The in-memory store is the default; `@agentgate/redis` shares state across
 * processes. Any store must pass `runStoreConformance` from `@agentgate/core/testing`.
 * Methods throw (or reject) when state is unreachable; the gate turns that into DENY.
 */
export interface GateStore {
  /** Atomically: return the record of a known call, or apply limits and reserve a use. */
  consume(request: ConsumeRequest): MaybePromise<ConsumeResult>;
  /**
   * Atomically marks a recorded, allowed call executed: of any number of
   * concurrent claims across every process sharing the store, exactly one gets
   * `claimed`. Extends the record's life to `now + runTtlMs` when that is later.
   */
  claimCall(request: ClaimRequest): MaybePromise<ClaimResult>;
  /**
   * Stores a new pending escalation (writing the same one again is harmless). Throws `EscalationError`
   * rather than replace one already settled or abandoned (see `abandonEscalation`).
   */
  createEscalation(record: EscalationRecord, ttlMs: number): MaybePromise<void>;
  getEscalation(escalationId: string): MaybePromise<EscalationRecord | undefined>;
  /**
   * Atomically moves a pending escalation to approved or denied, stores the
   * settled decision on it and on its call record, and, when `release` is true,
   * gives back its counter reservation. Only one caller can win.
   */
  settleEscalation(escalationId: string, settled: Decision, release: boolean): MaybePromise<SettleResult>;
  /**
   * Optional, and what a store should do: `createEscalation` failed (threw, other than
   * `EscalationLimitError`) after `consume` had recorded the call as ESCALATE. Atomically: stores
   * `settled` (the gate's DENY) on the call record of `record.callKey`, so a repeat of the call gets
   * that DENY at once instead of looking for an escalation nobody can answer; settles the escalation
   * record with it too when the write landed after all; gives back the counter reservation. Returns
   * `false` and changes nothing when the escalation or its call record is already settled (or the call
   * record is gone or belongs to another escalation), so a call's reservation is given back at most
   * once, however often it runs (a network client may send it again). With no escalation record it
   * leaves a mark in its place, so a second call changes nothing and a `createEscalation` of the
   * escalation that lands afterwards throws (`EscalationError`) instead of opening it. `createEscalation`
   * likewise never replaces a settled escalation. The gate calls it once per failed write.
   * Without it, repeats of such a call end as DENY `approval_error` (see `ESCALATION_WRITE_WINDOW_MS`).
   */
  abandonEscalation?(record: EscalationRecord, settled: Decision): MaybePromise<boolean>;
  /**
   * Optional: how long after a call was recorded as ESCALATE (`consume`) its escalation may still be on
   * its way to this store (`createEscalation`, or `abandonEscalation` after a failed write), in ms.
   * A repeat of the call that finds no escalation looks again for this long before it is a DENY
   * (see `ESCALATION_WRITE_WINDOW_MS`, the default for stores that do not say).
   */
  readonly escalationWriteWindowMs?: number;
  /** Pending escalations (expired ones may be left out), narrowed by `query` when the store can. */
  listEscalations(now: number, query?: EscalationQuery): MaybePromise<EscalationRecord[]>;
  /** Optional: release connections and timers. */
  close?(): MaybePromise<void>;
}
