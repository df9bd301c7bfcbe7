import type { ActionName } from "../action.js";
import { errorText } from "../errors/error-text.js";
import { PermissionDeniedError } from "../errors/permission-denied-error.js";
import type { AgentIdentity } from "../identity/agent-identity.js";
import type { Evaluation, PermissionPolicy } from "../policy/permission-policy.js";
import type { ApprovalHandler, ApprovalRequest, ApprovalResolution } from "./approval.js";
import { Audit, type AuditSink, type DecisionObserver } from "./audit.js";
import { BoundedMap } from "./bounded-map.js";
import type { Decision, DecisionCode } from "./decision.js";
import { DecisionBuilder } from "./decision-builder.js";
import { Escalations, type PendingEscalationsOptions } from "./escalations.js";

export type { PendingEscalationsOptions } from "./escalations.js";
import { isGrantStore, type GrantStore } from "./grants.js";
import { GateParts } from "./gate-parts.js";
import { Limits } from "./limits.js";
import { MemoryStore } from "./memory-store.js";
import type { GateStore } from "./store.js";
import {
  isRefusal,
  MAX_CALL_ID,
  ownCopy,
  parseCheck,
  quote,
  readToolCall,
  safeOwn,
  type CheckOptions,
  type CheckRequest,
  type ToolCall,
} from "./tool-call.js";

export type { AuditEvent, AuditSink, DecisionObserver } from "./audit.js";
export type { CheckOptions, ToolCall, ToolMapping } from "./tool-call.js";

/** Options of `gate.refuse`. */
export interface RefuseOptions {
  target?: string;
  callId?: string;
  /**
   * Default `internal_error`; `approval_error` when an approval could not be obtained or was refused;
   * `call_mismatch` when an adapter saw the call id reused for another tool or input.
   */
  code?: "internal_error" | "approval_error" | "call_mismatch";
}

export interface GateKeeperOptions {
  identity: AgentIdentity;
  policy: PermissionPolicy;
  /** Asks a human about escalations. Without it, ESCALATE decisions wait for `resolveEscalation`. */
  approvalHandler?: ApprovalHandler;
  /** Default 300 000 (5 min): past it, an unanswered approval is a DENY. */
  approvalTimeoutMs?: number;
  /** How long an escalation can still be approved, default 86 400 000 (24 h). */
  approvalTtlMs?: number;
  /**
   * How long a recorded call that ran is remembered, from when it ran, so a
   * replay (`execute: true` again) is `call_replayed`. Default 86 400 000 (24 h);
   * the record lives until the later of this and `approvalTtlMs`, bounded by
   * the store (`MemoryStore`'s `maxCalls`, a TTL in Redis).
   */
  runRecordTtlMs?: number;
  /** Decisions kept in `decisions`, default 10 000; oldest dropped. */
  auditLimit?: number;
  auditSinks?: readonly AuditSink[];
  /** Called when a sink throws or rejects. The decision is never lost from `decisions`. */
  onAuditError?: (error: unknown, decision: Decision) => void;
  /** Counters, call records and escalations. In-memory by default. */
  store?: GateStore;
  /** Epoch milliseconds, default `Date.now`. Tests use it to move time. */
  clock?: () => number;
  /** Observers of every decision (see `@agentgate/core` telemetry helpers). */
  observers?: readonly DecisionObserver[];
  /** Standing approvals (usually the same store): a live matching grant ALLOWs an escalation with code `granted`. */
  grants?: GrantStore;
}

/** Static decisions remembered per call id (in-process), so re-checks of one call are audited once. */
const RECENT_CALLS = 4096;

/**
 * Checks every action against the policy before it runs: deny by default,
 * limits counted exactly, escalations sent to a human, every decision audited.
 * Any internal failure is a DENY that says what happened.
 *
 * The work is split by seam: `tool-call.ts` reads requests, `limits.ts` turns the store's
 * answer into decisions, `escalations.ts` asks and settles, `audit.ts` records; this class
 * keeps the options, the public methods, the policy's fast path and in-flight sharing.
 */
export class GateKeeper {
  readonly identity: AgentIdentity;
  readonly policy: PermissionPolicy;
  readonly store: GateStore;
  readonly #clock: () => number;
  readonly #audit: Audit;
  readonly #build: DecisionBuilder;
  readonly #parts: GateParts;
  readonly #escalations: Escalations;
  readonly #limits: Limits;
  // Checks in flight and recent static decisions, keyed by the bare call id: a gate's policy and
  // agent never change, so the id alone identifies the call (store keys add the namespace).
  // Made on first use: a process may hold a gate per user, most never given a call id. One check in
  // flight (the usual case, an agent's calls one after another) needs no map at all.
  #inflightOne: InFlight | undefined;
  #inflight: Map<string, InFlight> | undefined;
  #recent: BoundedMap<Decision> | undefined;

  constructor(options: GateKeeperOptions) {
    if (!options || typeof options !== "object") throw new TypeError("GateKeeper needs { identity, policy }");
    // Own options only: a polluted Object.prototype (`approvalHandler`, `store`) must not configure the gate.
    options = ownCopy(options);
    const { identity, policy } = options;
    if (!identity || typeof identity.id !== "string")
      throw new TypeError("GateKeeper: identity must be an AgentIdentity");
    if (!policy || typeof policy.evaluate !== "function")
      throw new TypeError("GateKeeper: policy must be a PermissionPolicy");
    this.identity = identity;
    this.policy = policy;
    this.store = options.store ?? new MemoryStore();
    if (options.grants !== undefined && !isGrantStore(options.grants))
      throw new TypeError("GateKeeper: grants must implement GrantStore");
    this.#clock = options.clock ?? Date.now;
    this.#audit = new Audit({
      limit: nonNegative(options.auditLimit, "auditLimit", 10_000),
      sinks: options.auditSinks ?? [],
      observers: options.observers ?? [],
      onError: options.onAuditError,
    });
    this.#build = new DecisionBuilder(identity, policy.name, (options.auditSinks?.length ?? 0) > 0);
    const ttlMs = nonNegative(options.approvalTtlMs, "approvalTtlMs", 86_400_000);
    const parts = new GateParts(identity, policy, this.store, this.#clock, this.#build, this.#audit);
    this.#parts = parts;
    this.#escalations = new Escalations(parts, {
      handler: options.approvalHandler,
      grants: options.grants,
      timeoutMs: nonNegative(options.approvalTimeoutMs, "approvalTimeoutMs", 300_000),
      ttlMs,
    });
    this.#limits = new Limits(parts, this.#escalations, {
      ttlMs,
      runTtlMs: nonNegative(options.runRecordTtlMs, "runRecordTtlMs", 86_400_000),
    });
  }

  /** True when an inline approval handler answers escalations. */
  get hasApprovalHandler(): boolean {
    return this.#escalations.hasHandler;
  }

  /** The audit history, oldest first, bounded by `auditLimit`. */
  get decisions(): readonly Decision[] {
    return this.#audit.decisions;
  }

  /** Adds an observer (used by telemetry integrations). Returns a function that removes it. */
  observe(observer: DecisionObserver): () => void {
    return this.#audit.observe(observer);
  }

  /**
   * Decides one action. Never throws for policy reasons: the Decision says
   * allow, deny or escalate. Rejects with `TypeError` for invalid arguments.
   */
  check(action: ActionName, targetOrOptions?: string | CheckOptions): Promise<Decision> {
    // Not `async`: the static path resolves without extra promise hops.
    let req: CheckRequest;
    try {
      req = parseCheck(action, targetOrOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      const decided = this.#run(req);
      return decided instanceof Promise ? decided : Promise.resolve(decided);
    } catch (error) {
      // A throwing custom clock or store method must reject, never throw into the agent synchronously.
      return Promise.reject(error);
    }
  }

  /** `true` only for ALLOW. */
  async isAllowed(action: ActionName, targetOrOptions?: string | CheckOptions): Promise<boolean> {
    return (await this.check(action, targetOrOptions)).type === "allow";
  }

  /** Resolves the Decision when ALLOW; otherwise rejects with `PermissionDeniedError`. */
  async require(action: ActionName, targetOrOptions?: string | CheckOptions): Promise<Decision> {
    const decision = await this.check(action, targetOrOptions);
    if (decision.type !== "allow") throw new PermissionDeniedError(decision);
    return decision;
  }

  /**
   * The entry point every adapter shares: maps a tool call to an action and
   * target (`tool_use` + tool name unless `mapping` says otherwise) and checks it.
   * Never rejects: a malformed call (no tool name, a bad call id), a mapping that
   * throws or returns a non-string, a store or internal failure are each an audited DENY.
   */
  checkToolCall(call: ToolCall): Promise<Decision> {
    // Not `async`: a static decision resolves without a promise chain (and its garbage) per call.
    let decided: Decision | Promise<Decision>;
    try {
      const read = readToolCall(call);
      decided = isRefusal(read) ? this.#failClosed(read.request, read.code, read.reason) : this.#run(read);
    } catch (error) {
      return Promise.resolve(this.#toolCallFailed(call, error));
    }
    if (!(decided instanceof Promise)) return Promise.resolve(decided);
    return decided.then(undefined, (error: unknown) => this.#toolCallFailed(call, error));
  }

  #toolCallFailed(call: ToolCall, error: unknown): Decision {
    const toolName = typeof call === "object" && call !== null ? safeOwn(call, "toolName") : undefined;
    const name = typeof toolName === "string" && toolName !== "" ? toolName : undefined;
    const reason = `the gate failed while checking tool ${quote(name ?? "(unnamed)")}: ${errorText(error)}`;
    return this.refuse("tool_use", reason, name === undefined ? {} : { target: name });
  }

  /**
   * Settles a pending escalation (from a UI, a resume value, another process
   * sharing the store) and resolves the settled Decision. Rejects with
   * `EscalationError` for an unknown or already settled id: exactly one approver wins.
   */
  async resolveEscalation(escalationId: string, resolution: ApprovalResolution | boolean): Promise<Decision> {
    if (typeof escalationId !== "string" || escalationId === "")
      throw new TypeError("escalationId must be a non-empty string");
    return this.#escalations.resolve(escalationId, resolution);
  }

  /**
   * Like `resolveEscalation`, but when another approver (or a timeout) settled it first,
   * resolves the decision that won instead of rejecting: what an adapter acts on.
   * Rejects with `EscalationError` only for an id the store does not know.
   */
  async answerEscalation(escalationId: string, resolution: ApprovalResolution | boolean): Promise<Decision> {
    if (typeof escalationId !== "string" || escalationId === "")
      throw new TypeError("escalationId must be a non-empty string");
    return this.#escalations.answer(escalationId, resolution);
  }

  /**
   * Open escalations this gate's agent raised under this policy, from every
   * process sharing the store, soonest to expire first. `callId` finds one
   * call's; `limit` and `after` page through them (an inbox). A shared store
   * answers from a per-agent index, whatever other agents have pending.
   */
  pendingEscalations(options: PendingEscalationsOptions = {}): Promise<ApprovalRequest[]> {
    return this.#escalations.pending(options);
  }

  /** The open escalation of this gate's agent and policy for `callId`, if any (the newest). */
  async pendingEscalationFor(callId: string): Promise<ApprovalRequest | undefined> {
    if (typeof callId !== "string" || callId === "") throw new TypeError("callId must be a non-empty string");
    return this.#escalations.pendingFor(callId);
  }

  /**
   * Records a DENY for a failure outside the gate's own check (an adapter's glue,
   * an approval that cannot be waited for), so it is audited like every other
   * decision. Never throws, never an ALLOW.
   */
  refuse(action: string, reason: string, options: RefuseOptions = {}): Decision {
    const req: CheckRequest = {
      action: typeof action === "string" && action !== "" ? action : "unknown",
      target: typeof options.target === "string" ? options.target : undefined,
      args: undefined,
      callId:
        typeof options.callId === "string" && options.callId !== "" && options.callId.length <= MAX_CALL_ID
          ? options.callId
          : undefined,
      context: undefined,
    };
    const code: DecisionCode =
      options.code === "approval_error" || options.code === "call_mismatch" ? options.code : "internal_error";
    try {
      return this.#failClosed(req, code, String(reason));
    } catch {
      // A throwing custom clock: still a DENY, stamped with the wall clock, unaudited.
      return this.#build.refusal(req, code, String(reason), Date.now());
    }
  }

  /** Persists buffered audit records in every sink that buffers. */
  flush(): Promise<void> {
    return this.#audit.flush();
  }

  /** Flushes and closes sinks. The store is the caller's to close. */
  close(): Promise<void> {
    return this.#audit.close();
  }

  /** A DENY for a failure of the gate's own machinery (never an ALLOW), audited. */
  #failClosed(req: CheckRequest, code: DecisionCode, reason: string, escalationId?: string): Decision {
    return this.#parts.failClosed(req, code, reason, escalationId);
  }

  /** A static decision as it is (the callers wrap it), anything that waits on the store as a promise. */
  #run(req: CheckRequest): Decision | Promise<Decision> {
    const key = req.callId;
    if (key === undefined) return this.#decide(req, undefined);
    const one = this.#inflightOne;
    const running = one !== undefined && one.key === key ? one : this.#inflight?.get(key);
    // A check that claims the execution is atomic in the store: never share one in flight.
    if (req.execute) return this.#decide(req, undefined);
    if (running) {
      // Share only the very same call. Another input under this id is decided on its own
      // (the store then refuses it as call_mismatch): it must never inherit the first one's ALLOW.
      const r = running.req;
      if (r.action === req.action && r.target === req.target && r.args === req.args) return running.p;
      return this.#decide(req, undefined);
    }
    return this.#decide(req, key);
  }

  /** Registers a check that has not finished yet, so a concurrent repeat of the same call shares it. */
  #track(key: string, req: CheckRequest, pending: Promise<Decision>): Promise<Decision> {
    // `then` rather than `finally`: the same clean-up, without finally's extra promises per call.
    const entry: InFlight = { key, p: pending, req };
    const done = (): void => {
      if (this.#inflightOne === entry) this.#inflightOne = undefined;
      else if (this.#inflight?.get(key) === entry) this.#inflight.delete(key);
    };
    const p = pending.then(
      (decision) => {
        done();
        return decision;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
    entry.p = p;
    if (this.#inflightOne === undefined) this.#inflightOne = entry;
    else (this.#inflight ??= new Map()).set(key, entry);
    return p;
  }

  /**
   * `track` is the call id when this check should be registered as in flight. Static decisions
   * never are: they are complete when this returns, and `#recent` answers a repeat of the call
   * (the same decision, audited once), so they skip the per-call promise and map churn.
   */
  #decide(req: CheckRequest, track: string | undefined): Decision | Promise<Decision> {
    const startedAt = this.#clock();
    let verdict: Evaluation;
    try {
      verdict = this.policy.evaluate(req.action, req.target);
    } catch (error) {
      // Complete when it returns, like a static decision: nothing to share in flight.
      return this.#failClosed(req, "internal_error", `policy evaluation failed: ${errorText(error)}`);
    }
    const rule = verdict.rule;
    if (verdict.type === "deny" || rule === undefined || (!rule.hasCounter && verdict.type === "allow")) {
      // Static decisions depend only on (action, target): a repeated call id gets the same one, audited once.
      const key = req.callId;
      if (key === undefined) return this.#audit.record(this.#build.fromPolicy(req, verdict, startedAt), req, startedAt);
      const recent = (this.#recent ??= new BoundedMap(RECENT_CALLS));
      const seen = recent.get(key);
      if (
        seen !== undefined &&
        seen.action === req.action &&
        seen.target === verdict.target &&
        seen.code === verdict.code
      ) {
        return seen;
      }
      const decision = this.#audit.record(this.#build.fromPolicy(req, verdict, startedAt), req, startedAt);
      recent.set(key, decision);
      return decision;
    }
    // A limited check the store answered in place is complete too: its record answers a repeat.
    const decided = this.#limits.decide(req, verdict, startedAt);
    return track === undefined || !(decided instanceof Promise) ? decided : this.#track(track, req, decided);
  }
}

/** A check that waits on the store, registered so a concurrent repeat of the same call shares it. */
interface InFlight {
  readonly key: string;
  p: Promise<Decision>;
  readonly req: CheckRequest;
}

/** A numeric option: `dflt` when absent, else a finite number >= 0. */
function nonNegative(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))
    throw new TypeError(`GateKeeper: ${name} must be a number >= 0`);
  return v;
}
