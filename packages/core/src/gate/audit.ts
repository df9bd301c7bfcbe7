import { AuditTrail } from "./audit-trail.js";
import { makeDecision, type Decision } from "./decision.js";
import { errorText } from "../errors/error-text.js";
import type { CheckRequest } from "./tool-call.js";

/** Where each decision goes besides `gate.decisions`: a file, a queue, a SIEM. */
export interface AuditSink {
  write(decision: Decision, event: AuditEvent): void | Promise<void>;
  /** Optional: persist buffered records (called by `gate.flush()`). */
  flush?(): void | Promise<void>;
  /** Optional: flush and release resources (called by `gate.close()`). */
  close?(): void | Promise<void>;
  /**
   * Optional: set (to why) while the sink cannot record decisions, e.g. its
   * buffer is full because the disk is. The gate then turns each ALLOW into a
   * DENY (`internal_error`, "audit unavailable: ...") until it clears: fail closed.
   */
  readonly unavailable?: string | undefined;
}

/** Extra detail about a decision, for sinks that want it (arguments are never in the Decision itself). */
export interface AuditEvent {
  args?: unknown;
  context?: Readonly<Record<string, unknown>>;
}

/** Observes every decision (telemetry, metrics). Must not throw; errors are ignored. */
export type DecisionObserver = (decision: Decision, event: AuditEvent & { startedAt: number }) => void;

/**
 * Records every decision: the bounded in-memory trail first (never lost), then
 * sinks and observers, none of which can break a check.
 */
export class Audit {
  readonly #trail: AuditTrail;
  readonly #sinks: readonly AuditSink[];
  readonly #observers: DecisionObserver[];
  readonly #onError: (error: unknown, decision: Decision) => void;
  /**
   * Per sink: the last unsettled promise its `write` returned and the decisions
   * it covers. A sink that batches (the JSONL sink: one promise per group commit)
   * then costs one handler per batch, not one per decision.
   */
  readonly #waiting: (Waiting | undefined)[];

  constructor(options: {
    limit: number;
    sinks: readonly AuditSink[];
    observers: readonly DecisionObserver[];
    onError: ((error: unknown, decision: Decision) => void) | undefined;
  }) {
    this.#trail = new AuditTrail(options.limit);
    this.#sinks = [...options.sinks];
    this.#waiting = this.#sinks.map(() => undefined);
    this.#observers = [...options.observers];
    this.#onError =
      options.onError ??
      ((error, decision) => {
        console.warn(`[agentgate] audit sink failed for decision ${decision.id}: ${errorText(error)}`);
      });
  }

  /** Oldest first, bounded by the trail's limit. */
  get decisions(): readonly Decision[] {
    return this.#trail.toArray();
  }

  observe(observer: DecisionObserver): () => void {
    this.#observers.push(observer);
    return () => {
      const i = this.#observers.indexOf(observer);
      if (i >= 0) this.#observers.splice(i, 1);
    };
  }

  /** Records `decision` (made for `request`) and returns it. */
  record(decision: Decision, request: CheckRequest, startedAt: number): Decision {
    if (decision.type === "allow" && this.#sinks.length > 0) decision = this.#unlessUnavailable(decision);
    this.#trail.push(decision);
    if (this.#sinks.length > 0) {
      // A fresh object per decision: sinks may annotate the event they are given.
      const event: AuditEvent = {};
      if (request.args !== undefined) event.args = request.args;
      if (request.context !== undefined) event.context = request.context;
      const sinks = this.#sinks;
      for (let i = 0; i < sinks.length; i++) {
        try {
          const r = sinks[i]!.write(decision, event);
          if (r && typeof (r as Promise<void>).then === "function") this.#await(i, r as Promise<void>, decision);
        } catch (error) {
          this.#failed(error, decision);
        }
      }
    }
    if (this.#observers.length > 0) {
      const event = { args: request.args, context: request.context, startedAt };
      for (const observe of this.#observers) {
        try {
          observe(decision, event);
        } catch {
          // Observers are best effort by contract.
        }
      }
    }
    return decision;
  }

  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.flush?.()));
  }

  async close(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => (s.close ? s.close() : s.flush?.())));
  }

  /**
   * A repeat's ALLOW, rebuilt from the store and not audited again, stands only while every sink
   * can record; otherwise the DENY is returned and audited, as for a new check.
   */
  allowStands(decision: Decision, request: CheckRequest, startedAt: number): Decision {
    if (decision.type !== "allow" || this.#sinks.length === 0) return decision;
    const refused = this.#unlessUnavailable(decision);
    return refused === decision ? decision : this.record(refused, request, startedAt);
  }

  /** An ALLOW stands only while every sink can record it; a sink that says it cannot (`unavailable`) makes it a DENY. */
  #unlessUnavailable(decision: Decision): Decision {
    for (const sink of this.#sinks) {
      let why: unknown;
      try {
        why = sink.unavailable;
      } catch (error) {
        why = `the audit sink failed: ${errorText(error)}`;
      }
      if (why === undefined || why === "") continue;
      const { id, agentId, agentName, action, target, timestamp, policy, callId, escalationId } = decision;
      return makeDecision({
        id,
        type: "deny",
        code: "internal_error",
        agentId,
        agentName,
        action,
        target,
        reason: `audit unavailable: ${String(why)}`,
        timestamp,
        policy,
        callId,
        escalationId,
      });
    }
    return decision;
  }

  /** Reports `decision` to `onAuditError` if `promise` rejects: one handler per distinct unsettled promise. */
  #await(i: number, promise: Promise<void>, decision: Decision): void {
    const last = this.#waiting[i];
    if (last !== undefined && last.promise === promise) {
      last.decisions.push(decision);
      return;
    }
    const waiting: Waiting = { promise, decisions: [decision] };
    this.#waiting[i] = waiting;
    // Once settled, forget it: a sink may hand the same (settled) promise out again, which then gets a handler of its own.
    const settled = () => {
      if (this.#waiting[i] === waiting) this.#waiting[i] = undefined;
    };
    try {
      promise.then(settled, (error) => {
        settled();
        for (const d of waiting.decisions) this.#failed(error, d);
      });
    } catch (error) {
      settled(); // a thenable whose `then` throws: reported by the caller
      throw error;
    }
  }

  #failed(error: unknown, decision: Decision): void {
    try {
      this.#onError(error, decision);
    } catch {
      // An error handler that throws must not take the agent down.
    }
  }
}

interface Waiting {
  readonly promise: Promise<void>;
  readonly decisions: Decision[];
}
