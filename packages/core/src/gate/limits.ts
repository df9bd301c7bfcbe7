import type { Evaluation } from "../policy/permission-policy.js";
import type { Decision, DecisionCode } from "./decision.js";
import type { Escalations } from "./escalations.js";
import { callFingerprint } from "./fingerprint.js";
import type { GateParts } from "./gate-parts.js";
import type { ClaimResult, ConsumeRequest, ConsumeResult } from "./store.js";
import { errorText } from "../errors/error-text.js";
import { callKeyPrefix, quote, type CheckRequest } from "./tool-call.js";

/** The sliding window of `max_per_minute`. */
export const WINDOW_MS = 60_000;

/** Whose counter a check spends: the store's scope and flat key. */
interface CounterOf {
  readonly key: string;
  readonly scope: ConsumeRequest["scope"];
}

/** What a decision is made from: a store's answer, or the record of a repeated call (no copy of it). */
type Outcome = Pick<ConsumeResult, "outcome" | "used" | "retryAfterMs" | "fallback">;

/**
 * Limits, thresholds and per-call records: one atomic store operation per check, turned into
 * the decision; repeats of a recorded call get its original (or settled) decision, and the
 * check right before a call runs claims its one run.
 */
export class Limits {
  readonly #gate: GateParts;
  readonly #escalations: Escalations;
  readonly #ttlMs: number;
  readonly #runTtlMs: number;
  /** Counters by action; the first one in a field, since most gates count one action (no map per gate). */
  #first: CounterOf | undefined;
  #counters: Map<string, CounterOf> | undefined;
  /** `policy:agent:call:`, fixed for the gate's life: call keys are this plus the encoded call id. */
  #callPrefix: string | undefined;

  constructor(gate: GateParts, escalations: Escalations, options: { ttlMs: number; runTtlMs: number }) {
    this.#gate = gate;
    this.#escalations = escalations;
    this.#ttlMs = options.ttlMs;
    this.#runTtlMs = options.runTtlMs;
  }

  /**
   * Decides a check whose rule has limits or escalates. With a synchronous store (the default
   * MemoryStore) and a short fingerprint (arguments under 512 characters of canonical JSON), a
   * check that does not escalate runs to the end in place and returns its Decision: no promise,
   * no async function per check. A hashed fingerprint, an async store or an escalation returns a
   * promise. Failures of the store or the fingerprint are audited DENYs, never throws.
   */
  decide(req: CheckRequest, verdict: Evaluation, startedAt: number): Decision | Promise<Decision> {
    const gate = this.#gate;
    const rule = verdict.rule!;
    const decisionId = gate.build.ids.next();
    // Escalation ids go to humans and UIs: random, and only made when an escalation is possible.
    const escalationId =
      verdict.type === "escalate" || rule.escalateAfter !== undefined ? globalThis.crypto.randomUUID() : "";
    let consumeReq: ConsumeRequest;
    try {
      const counter = this.#counterOf(req.action);
      consumeReq = {
        scope: counter.scope,
        key: counter.key,
        now: startedAt,
        windowMs: WINDOW_MS,
        escalate: verdict.type === "escalate",
        decisionId,
        escalationId,
      };
      if (rule.maxPerMinute !== undefined) consumeReq.maxPerMinute = rule.maxPerMinute;
      if (rule.denyAfter !== undefined) consumeReq.denyAfter = rule.denyAfter;
      if (rule.escalateAfter !== undefined) consumeReq.escalateAfter = rule.escalateAfter;
    } catch (error) {
      return gate.failClosed(
        req,
        "internal_error",
        `cannot build the counter key for action ${quote(req.action)}: ${errorText(error)}`,
      );
    }
    if (req.callId !== undefined) {
      // With a call id, the fingerprint binds the call's record to this exact input.
      let fingerprint: string | Promise<string>;
      try {
        const call: NonNullable<ConsumeRequest["call"]> = {
          key: this.#callKey(req.callId),
          fingerprint: "",
          ttlMs: this.#ttlMs,
          runTtlMs: this.#runTtlMs,
        };
        if (req.execute) call.execute = true;
        consumeReq.call = call;
        fingerprint = callFingerprint(req.action, verdict.target, req.args);
      } catch (error) {
        return this.#unprintable(req, error);
      }
      if (typeof fingerprint !== "string") return this.#afterDigest(req, verdict, startedAt, consumeReq, fingerprint);
      consumeReq.call.fingerprint = fingerprint;
    }
    return this.#consume(req, verdict, startedAt, consumeReq);
  }

  /** A fingerprint hashed asynchronously (long arguments): consume once it is known. */
  async #afterDigest(
    req: CheckRequest,
    verdict: Evaluation,
    startedAt: number,
    consumeReq: ConsumeRequest,
    fingerprint: Promise<string>,
  ): Promise<Decision> {
    try {
      consumeReq.call!.fingerprint = await fingerprint;
    } catch (error) {
      return this.#unprintable(req, error);
    }
    return this.#consume(req, verdict, startedAt, consumeReq);
  }

  #unprintable(req: CheckRequest, error: unknown): Decision {
    return this.#gate.failClosed(req, "internal_error", `cannot fingerprint the call's arguments: ${errorText(error)}`);
  }

  /** One store operation: a synchronous answer is turned into the decision in place. */
  #consume(
    req: CheckRequest,
    verdict: Evaluation,
    startedAt: number,
    consumeReq: ConsumeRequest,
  ): Decision | Promise<Decision> {
    let pending: ConsumeResult | PromiseLike<ConsumeResult>;
    try {
      pending = this.#gate.store.consume(consumeReq);
    } catch (error) {
      return this.#storeFailed(req, error);
    }
    if (isThenable(pending)) return this.#awaitConsume(req, verdict, startedAt, consumeReq, pending);
    return this.#consumed(req, verdict, startedAt, consumeReq, pending);
  }

  async #awaitConsume(
    req: CheckRequest,
    verdict: Evaluation,
    startedAt: number,
    consumeReq: ConsumeRequest,
    pending: PromiseLike<ConsumeResult>,
  ): Promise<Decision> {
    let result: ConsumeResult;
    try {
      result = await pending;
    } catch (error) {
      return this.#storeFailed(req, error);
    }
    return this.#consumed(req, verdict, startedAt, consumeReq, result);
  }

  #storeFailed(req: CheckRequest, error: unknown): Decision {
    return this.#gate.failClosed(
      req,
      "store_unavailable",
      `state store unavailable, failing closed: ${errorText(error)}`,
    );
  }

  /** Turns the store's answer into the decision: a repeat, a recorded decision, or an escalation. */
  #consumed(
    req: CheckRequest,
    verdict: Evaluation,
    startedAt: number,
    consumeReq: ConsumeRequest,
    result: ConsumeResult,
  ): Decision | Promise<Decision> {
    if (result.repeat) return this.#repeat(req, verdict, result, consumeReq);
    const { decisionId, now, escalationId } = consumeReq;
    const decision = this.#fromOutcome(req, verdict, result, decisionId, now, escalationId);
    if (decision.type !== "escalate") return this.#gate.audit.record(decision, req, startedAt);
    const escalated = this.#escalations.open(req, decision, consumeReq, startedAt);
    return req.execute && consumeReq.call ? escalated.then((d) => this.#claim(req, d, consumeReq.call!)) : escalated;
  }

  /** A call the store has seen: its original (or settled) decision, rebuilt and not audited again. */
  #repeat(
    req: CheckRequest,
    verdict: Evaluation,
    result: ConsumeResult,
    consumeReq: ConsumeRequest,
  ): Decision | Promise<Decision> {
    const known = result.repeat!;
    if (known.mismatch) return this.#mismatched(req);
    if (req.execute && known.executed) return this.#replayed(req);
    const audit = this.#gate.audit;
    if (known.settled) return audit.allowStands(known.settled, req, this.#gate.clock());
    // Rebuilt with the ids reserved for it (the record carries them), so it is the very same decision.
    const original = this.#fromOutcome(req, verdict, known, known.decisionId, known.at, known.escalationId);
    if (original.type !== "escalate") return audit.allowStands(original, req, this.#gate.clock());
    return this.#answerRepeat(req, known.escalationId, original, consumeReq, known.at);
  }

  /** A repeat of an escalated call: the inline approver's answer (asked once), or what its escalation became. */
  async #answerRepeat(
    req: CheckRequest,
    escalationId: string,
    original: Decision,
    consumeReq: ConsumeRequest,
    raisedAt: number,
  ): Promise<Decision> {
    const settled = await this.#escalations.answerFor(req, escalationId, original, raisedAt);
    // The store marked nothing executed for this check (the call was not yet approved when it looked).
    return req.execute && consumeReq.call ? this.#claim(req, settled, consumeReq.call) : settled;
  }

  /**
   * An approval reached inline for a check that runs the call: claim the call's one run in the
   * store. Of all concurrent claims, in every process sharing the store, exactly one gets the ALLOW.
   */
  async #claim(req: CheckRequest, decision: Decision, call: NonNullable<ConsumeRequest["call"]>): Promise<Decision> {
    if (decision.type !== "allow") return decision;
    const gate = this.#gate;
    let claim: ClaimResult;
    try {
      claim = await gate.store.claimCall({
        scope: { policy: gate.policy.name, agentId: gate.identity.id },
        key: call.key,
        fingerprint: call.fingerprint,
        now: gate.clock(),
        runTtlMs: this.#runTtlMs,
      });
    } catch (error) {
      return gate.failClosed(
        req,
        "store_unavailable",
        `state store unavailable while claiming the approved call's run, failing closed: ${errorText(error)}`,
      );
    }
    if (claim === "claimed") return decision;
    if (claim === "replayed") return this.#replayed(req);
    if (claim === "mismatch") return this.#mismatched(req);
    const why = claim === "unknown" ? "is gone (expired or evicted)" : "does not hold an approval";
    return gate.failClosed(
      req,
      "approval_error",
      `the record of call id ${quote(req.callId)} ${why}, so the approved call does not run`,
    );
  }

  #replayed(req: CheckRequest): Decision {
    const reason = `call id ${quote(req.callId)} already ran once; a replayed call (an old message history or saved run state sent again) is refused`;
    return this.#gate.failClosed(req, "call_replayed", reason);
  }

  #mismatched(req: CheckRequest): Decision {
    const reason = `call id ${quote(req.callId)} was already decided for a different action, target or arguments; an approval or decision never carries over to another input`;
    return this.#gate.failClosed(req, "call_mismatch", reason);
  }

  /** The decision a store outcome stands for, with the ids reserved for it before the store answered. */
  #fromOutcome(
    req: CheckRequest,
    verdict: Evaluation,
    result: Outcome,
    decisionId: string,
    now: number,
    escalationId: string,
  ): Decision {
    const rule = verdict.rule!;
    const name = rule.label; // `rule "<action>"`, precomputed
    let type = verdict.type;
    let code: DecisionCode = verdict.code;
    let reason = verdict.reason;
    let retryAfterMs: number | undefined;
    switch (result.outcome) {
      case "deny_after":
        type = "deny";
        code = "deny_after";
        reason = `${name}: deny_after limit reached (${result.used} of ${rule.denyAfter} allowed uses spent)`;
        break;
      case "rate_limit":
        type = "deny";
        code = "rate_limit";
        retryAfterMs = result.retryAfterMs;
        reason = `${name}: max_per_minute limit of ${rule.maxPerMinute} reached; retry in ${Math.ceil((retryAfterMs ?? WINDOW_MS) / 1000)} s`;
        break;
      case "escalate":
        type = "escalate";
        if (verdict.type !== "escalate") {
          code = "escalate_after";
          reason = `${name}: escalate_after threshold reached (${result.used} of ${rule.escalateAfter} uses), so a human must approve`;
        }
        break;
      case "allow":
        break;
    }
    if (result.fallback) reason += " [decided with in-process limits: shared store unavailable]";
    const build = this.#gate.build;
    if (type !== "escalate" && retryAfterMs === undefined && !result.fallback)
      return build.simple(decisionId, type, code, req.action, verdict.target, reason, build.iso(now), req.callId);
    return build.make({
      id: decisionId,
      type,
      code,
      action: req.action,
      target: verdict.target,
      reason,
      timestamp: build.iso(now),
      callId: req.callId,
      escalationId: type === "escalate" ? escalationId : undefined,
      retryAfterMs,
      mode: result.fallback ? "local-fallback" : undefined,
    });
  }

  /** The counter's scope and key for an action, made once per gate and action (not per check). */
  #counterOf(action: string): CounterOf {
    const first = this.#first;
    if (first !== undefined && first.scope.action === action) return first;
    let counter = this.#counters?.get(action);
    if (counter === undefined) {
      const { policy, identity } = this.#gate;
      counter = {
        key: `${encodeURIComponent(policy.name)}:${identity.id}:${encodeURIComponent(action)}`,
        scope: Object.freeze({ policy: policy.name, agentId: identity.id, action }),
      };
      if (first === undefined) this.#first = counter;
      else (this.#counters ??= new Map()).set(action, counter);
    }
    return counter;
  }

  #callKey(callId: string): string {
    this.#callPrefix ??= callKeyPrefix(this.#gate.policy.name, this.#gate.identity.id);
    // Framework call ids are usually URI-safe already: skip the escaped copy then (same key).
    return this.#callPrefix + (URI_SAFE.test(callId) ? callId : encodeURIComponent(callId));
  }
}

/** What `encodeURIComponent` leaves as it is. */
const URI_SAFE = /^[\w.!~*'()-]*$/;

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as PromiseLike<T>).then === "function"
  );
}
