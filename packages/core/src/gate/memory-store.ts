import type {
  CallRecord,
  ClaimRequest,
  ClaimResult,
  ConsumeRequest,
  ConsumeResult,
  EscalationQuery,
  EscalationRecord,
  GateStore,
  SettleResult,
} from "./store.js";
import { EscalationError } from "../errors/escalation-error.js";
import { BoundedMap } from "./bounded-map.js";
import type { Decision } from "./decision.js";
import { MemoryGrants, type Grant, type GrantMatch } from "./grants.js";

/** A sliding-window log: sorted timestamps with a moving head, compacted now and then. */
class Counter {
  used = 0;
  times: number[] = [];
  head = 0;

  inWindow(now: number, windowMs: number): number {
    const t = this.times;
    const edge = now - windowMs;
    while (this.head < t.length && t[this.head]! <= edge) this.head++;
    if (this.head > 64 && this.head * 2 > t.length) {
      this.times = t.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(at: number): void {
    const t = this.times;
    // The first timestamp in an exact-size array: a push would reserve 17 slots (a store per gate, issue 19).
    if (t.length === 0) this.times = [at];
    else if (t[t.length - 1]! <= at) t.push(at);
    else {
      // A clock that went backwards: keep the log sorted.
      let i = t.length;
      while (i > this.head && t[i - 1]! > at) i--;
      t.splice(i, 0, at);
    }
  }

  remove(at: number): void {
    const i = this.times.indexOf(at, this.head);
    if (i >= 0) this.times.splice(i, 1);
  }
}

export interface MemoryStoreOptions {
  /** Most call records kept for idempotency; the oldest go first. Default 100 000. */
  maxCalls?: number;
  /** Most escalations kept (pending and settled). Default 10 000. */
  maxEscalations?: number;
  /**
   * `GateStore.escalationWriteWindowMs`. Default 250: an in-process write lands within the check
   * that raised it. Set it longer when the store is behind something slower (a proxy, a queue).
   */
  escalationWriteWindowMs?: number;
}

/**
 * The default, in-process store. Every method is synchronous, so each
 * check-and-reserve is atomic within the process. State is lost on restart
 * and not shared: use `@agentgate/redis` for several processes.
 */
export class MemoryStore implements GateStore {
  // Each map is made on first use: a process may hold one store per gate, most of them idle (issue 19).
  #counters: Map<string, Counter> | undefined;
  readonly #calls: BoundedMap<CallRecord & { expiresAt: number }>;
  #escalationMap: Map<string, EscalationRecord> | undefined;
  readonly #maxEscalations: number;
  #grantStore: MemoryGrants | undefined;
  #settled: Set<(escalationId: string) => void> | undefined;
  /** Escalations abandoned with no record written (`abandonEscalation`); made on first use, bounded as escalations. */
  #abandoned: BoundedMap<true> | undefined;
  readonly escalationWriteWindowMs: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.#calls = new BoundedMap(options.maxCalls ?? 100_000);
    this.#maxEscalations = options.maxEscalations ?? 10_000;
    this.escalationWriteWindowMs = options.escalationWriteWindowMs ?? 250;
  }

  get #escalations(): Map<string, EscalationRecord> {
    return (this.#escalationMap ??= new Map());
  }

  get #grants(): MemoryGrants {
    return (this.#grantStore ??= new MemoryGrants());
  }

  consume(req: ConsumeRequest): ConsumeResult {
    const now = req.now;
    if (req.call) {
      const known = this.#calls.get(req.call.key);
      if (known && known.expiresAt > now) {
        const mismatch = known.fingerprint !== req.call.fingerprint;
        const repeat = repeatOf(known, mismatch);
        const result: ConsumeResult = { outcome: known.outcome, used: known.used, repeat };
        if (known.retryAfterMs !== undefined) result.retryAfterMs = known.retryAfterMs;
        if (req.call.execute && !mismatch && !known.executed && effectivelyAllowed(known)) {
          markExecuted(known, now, req.call.runTtlMs ?? req.call.ttlMs);
        }
        return result;
      }
    }
    const counters = (this.#counters ??= new Map());
    let c = counters.get(req.key);
    if (c === undefined) {
      c = new Counter();
      counters.set(req.key, c);
    }
    const result = decide(c, req);
    if (result.outcome === "allow" || result.outcome === "escalate") {
      // Uses are counted only where a threshold reads them (deny_after, escalate_after).
      if (req.denyAfter !== undefined || req.escalateAfter !== undefined) c.used++;
      if (req.maxPerMinute !== undefined) c.add(now);
    }
    if (req.call) this.#remember(req, result);
    return result;
  }

  #remember(req: ConsumeRequest, result: ConsumeResult): void {
    const call = req.call!;
    const record: CallRecord & { expiresAt: number } = {
      outcome: result.outcome,
      used: result.used,
      decisionId: req.decisionId,
      escalationId: req.escalationId,
      at: req.now,
      fingerprint: call.fingerprint,
      expiresAt: req.now + call.ttlMs,
      // In the literal, not added when the call runs: no property store grown per executed call.
      executed: false,
    };
    if (result.retryAfterMs !== undefined) record.retryAfterMs = result.retryAfterMs;
    if (call.execute && result.outcome === "allow") markExecuted(record, req.now, call.runTtlMs ?? call.ttlMs);
    // Oldest records go first once maxCalls are kept (O(1), see BoundedMap).
    this.#calls.set(call.key, record);
  }

  claimCall(req: ClaimRequest): ClaimResult {
    const known = this.#calls.get(req.key);
    if (!known || known.expiresAt <= req.now) return "unknown";
    if (known.fingerprint !== req.fingerprint) return "mismatch";
    if (known.executed) return "replayed";
    if (!effectivelyAllowed(known)) return "not_allowed";
    markExecuted(known, req.now, req.runTtlMs);
    return "claimed";
  }

  /** Throws `EscalationError` for an escalation already abandoned or settled: it is never opened again. */
  createEscalation(record: EscalationRecord): void {
    const known = this.#escalationMap?.get(record.escalationId);
    if ((known !== undefined && known.status !== "pending") || this.#abandoned?.get(record.escalationId)) {
      throw new EscalationError(
        "AGENTGATE_ESCALATION_SETTLED",
        record.escalationId,
        `escalation ${record.escalationId} is already settled, or was abandoned after a failed write: it is not opened again`,
      );
    }
    if (known === undefined && this.#escalations.size >= this.#maxEscalations) {
      // Drop settled ones first, then the oldest.
      for (const [id, r] of this.#escalations) {
        if (r.status !== "pending") {
          this.#escalations.delete(id);
          break;
        }
      }
      if (this.#escalations.size >= this.#maxEscalations) {
        const oldest = this.#escalations.keys().next().value;
        if (oldest !== undefined) this.#escalations.delete(oldest);
      }
    }
    this.#escalations.set(record.escalationId, structuredClone(record));
  }

  getEscalation(escalationId: string): EscalationRecord | undefined {
    const r = this.#escalationMap?.get(escalationId);
    return r === undefined ? undefined : structuredClone(r);
  }

  settleEscalation(escalationId: string, settled: Decision, release: boolean): SettleResult {
    const r = this.#escalations.get(escalationId);
    if (r === undefined) return { ok: false, reason: "unknown" };
    if (r.status !== "pending") return { ok: false, reason: "settled", record: structuredClone(r) };
    r.status = settled.type === "allow" ? "approved" : "denied";
    r.settled = settled;
    if (release) this.#release(r);
    if (r.callKey) {
      const call = this.#calls.get(r.callKey);
      if (call) call.settled = settled;
    }
    if (this.#settled !== undefined)
      for (const listener of [...this.#settled])
        queueMicrotask(() => {
          try {
            listener(escalationId);
          } catch {
            // a listener's failure is its own
          }
        });
    return { ok: true, record: structuredClone(r) };
  }

  abandonEscalation(record: EscalationRecord, settled: Decision): boolean {
    if (this.#escalationMap?.has(record.escalationId))
      return this.settleEscalation(record.escalationId, settled, true).ok;
    // Never written: remembered, so a second abandon gives nothing back and a late write is refused.
    const abandoned = (this.#abandoned ??= new BoundedMap(this.#maxEscalations));
    if (abandoned.get(record.escalationId)) return false;
    abandoned.set(record.escalationId, true);
    if (record.callKey !== undefined) {
      const call = this.#calls.get(record.callKey);
      if (call === undefined || call.escalationId !== record.escalationId || call.settled !== undefined) return false;
      call.settled = settled;
    }
    this.#release(record);
    return true;
  }

  /** Gives back the counter use an escalation reserved. */
  #release(r: EscalationRecord): void {
    const c = r.reservation && this.#counters?.get(r.reservation.key);
    if (c) {
      c.used = Math.max(0, c.used - 1);
      c.remove(r.reservation!.at);
    }
  }

  // Grants and settle events: see grants.ts.
  createGrant(grant: Grant): void {
    this.#grants.createGrant(grant);
  }

  useGrant(match: GrantMatch, now: number): Grant | undefined {
    return this.#grants.useGrant(match, now);
  }

  listGrants(now: number): Grant[] {
    return this.#grants.listGrants(now);
  }

  revokeGrant(id: string): Grant | undefined {
    return this.#grants.revokeGrant(id);
  }

  /** Calls `listener` after every settle in this store (in-process waiters use it instead of polling). */
  onEscalationSettled(listener: (escalationId: string) => void): () => void {
    const settled = (this.#settled ??= new Set());
    settled.add(listener);
    return () => settled.delete(listener);
  }

  listEscalations(now: number, query: EscalationQuery = {}): EscalationRecord[] {
    const out: EscalationRecord[] = [];
    for (const r of this.#escalationMap?.values() ?? []) {
      if (r.status === "pending" && r.expiresAt > now && matches(r, query)) out.push(r);
    }
    return pageOf(out, query).map((r) => structuredClone(r));
  }
}

function matches(r: EscalationRecord, q: EscalationQuery): boolean {
  if (q.scope && (r.decision.policy !== q.scope.policy || r.decision.agentId !== q.scope.agentId)) return false;
  return q.callKey === undefined || r.callKey === q.callKey;
}

/**
 * Orders by `(expiresAt, escalationId)`, keeps what comes after `query.after`
 * and at most `query.limit`. Used by the gate on any store's answer too.
 */
export function pageOf<T extends { escalationId: string; expiresAt: number }>(
  records: T[],
  query: EscalationQuery,
): T[] {
  const before = (a: { escalationId: string; expiresAt: number }, b: { escalationId: string; expiresAt: number }) =>
    a.expiresAt !== b.expiresAt ? a.expiresAt < b.expiresAt : a.escalationId < b.escalationId;
  let out = records.slice().sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  const after = query.after;
  if (after) out = out.filter((r) => before(after, r));
  return query.limit === undefined ? out : out.slice(0, Math.max(0, query.limit));
}

/**
 * The record as a repeat sees it (before this request marks anything), without `expiresAt`:
 * the fields one by one rather than a rest-spread and a spread per repeat.
 */
function repeatOf(known: CallRecord, mismatch: boolean): CallRecord & { mismatch: boolean } {
  const repeat: CallRecord & { mismatch: boolean } = {
    outcome: known.outcome,
    used: known.used,
    decisionId: known.decisionId,
    escalationId: known.escalationId,
    at: known.at,
    fingerprint: known.fingerprint,
    mismatch,
  };
  if (known.retryAfterMs !== undefined) repeat.retryAfterMs = known.retryAfterMs;
  if (known.settled !== undefined) repeat.settled = known.settled;
  if (known.executed) repeat.executed = true;
  if (known.fallback !== undefined) repeat.fallback = known.fallback;
  return repeat;
}

/** Allowed outright, or an escalation a human approved. */
function effectivelyAllowed(record: CallRecord): boolean {
  return record.settled ? record.settled.type === "allow" : record.outcome === "allow";
}

/** The run is remembered past the approval's life, so a late replay is still refused. */
function markExecuted(record: CallRecord & { expiresAt: number }, now: number, runTtlMs: number): void {
  record.executed = true;
  record.expiresAt = Math.max(record.expiresAt, now + runTtlMs);
}

/** The limit arithmetic shared by in-process stores. */
function decide(c: Counter, req: ConsumeRequest): ConsumeResult {
  const used = c.used;
  if (req.denyAfter !== undefined && used >= req.denyAfter) return { outcome: "deny_after", used };
  if (req.maxPerMinute !== undefined) {
    const n = c.inWindow(req.now, req.windowMs);
    if (n >= req.maxPerMinute) {
      const oldest = c.times[c.head + n - req.maxPerMinute];
      const retryAfterMs = oldest === undefined ? req.windowMs : Math.max(1, oldest + req.windowMs - req.now);
      return { outcome: "rate_limit", used, retryAfterMs };
    }
  }
  const escalate = req.escalate || (req.escalateAfter !== undefined && used >= req.escalateAfter);
  return { outcome: escalate ? "escalate" : "allow", used };
}
