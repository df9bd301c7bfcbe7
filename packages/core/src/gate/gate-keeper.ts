import type { ActionName } from "../action.js";
import { EscalationError } from "../errors/escalation-error.js";
import { PermissionDeniedError } from "../errors/permission-denied-error.js";
import type { AgentIdentity } from "../identity/agent-identity.js";
import type { Evaluation, PermissionPolicy } from "../policy/permission-policy.js";
import {
  isSelfApproval,
  normalizeApproval,
  type ApprovalHandler,
  type ApprovalRequest,
  type ApprovalResolution,
} from "./approval.js";
import { AuditTrail } from "./audit-trail.js";
import { BoundedMap } from "./bounded-map.js";
import { makeDecision, type Decision, type DecisionCode } from "./decision.js";
import { callFingerprint, canonicalJson } from "./fingerprint.js";
import { MemoryStore, pageOf } from "./memory-store.js";
import { applyGrant, isGrantStore, type GrantStore } from "./grants.js";
import type { ClaimResult, ConsumeRequest, ConsumeResult, EscalationQuery, EscalationRecord, GateStore } from "./store.js";

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

/** The second argument of `check`: a target, or options. */
export interface CheckOptions {
  target?: string;
  /** The action's arguments (e.g. tool input): shown to approvers, bound into the call fingerprint. */
  args?: unknown;
  /** The framework's id for this call: a second check with it returns the same decision. */
  callId?: string;
  /** Free-form context for sinks and observers. */
  context?: Record<string, unknown>;
  /** The action runs right after an ALLOW: a call recorded under `callId` may run only once (see `ToolCall.execute`). */
  execute?: boolean;
}

/** Options of `gate.pendingEscalations`. */
export interface PendingEscalationsOptions {
  /** Only the escalation of this call id. */
  callId?: string;
  /** At most this many (a page of an inbox), soonest to expire first. */
  limit?: number;
  /** The `escalationId` of the last request of the previous page. */
  after?: string;
}

/** Options of `gate.refuse`. */
export interface RefuseOptions {
  target?: string;
  callId?: string;
  /** Default `internal_error`; `approval_error` when an approval could not be obtained or was refused. */
  code?: "internal_error" | "approval_error";
}

/** Maps tool names to actions and targets, e.g. `{ readFile: { action: "file_read", target: (i) => i.path } }`. */
export type ToolMapping = Record<
  string,
  {
    action: ActionName;
    target?: (input: any) => string | undefined;
  }
>;

/** A tool call as every adapter sees it. */
export interface ToolCall {
  toolName: string;
  input: unknown;
  callId?: string;
  mapping?: ToolMapping;
  context?: Record<string, unknown>;
  /**
   * Set by an adapter that could not read the call's input (e.g. malformed JSON
   * arguments): the gate records a DENY with this reason instead of deciding.
   */
  inputError?: string;
  /**
   * Set by adapters on the check made right before the tool runs. A call the
   * gate recorded (limits, approvals) then runs at most once: a replayed
   * history or run state that asks again is refused (`call_replayed`).
   */
  execute?: boolean;
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

const WINDOW_MS = 60_000;
/** Longest call id accepted (framework ids are a few dozen characters). */
const MAX_CALL_ID = 1024;
/** Static decisions remembered per call id (in-process), so re-checks of one call are audited once. */
const RECENT_CALLS = 4096;
const q = JSON.stringify;

interface Req {
  action: string;
  target: string | undefined;
  args: unknown;
  callId: string | undefined;
  context: Record<string, unknown> | undefined;
  /** The caller runs the action right after an ALLOW: a recorded call may run once, a replay is refused. */
  execute?: boolean;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * Checks every action against the policy before it runs: deny by default,
 * limits counted exactly, escalations sent to a human, every decision audited.
 * Any internal failure is a DENY that says what happened.
 */
export class GateKeeper {
  readonly identity: AgentIdentity;
  readonly policy: PermissionPolicy;
  readonly store: GateStore;
  readonly #handler: ApprovalHandler | undefined;
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #runTtlMs: number;
  readonly #audit: AuditTrail;
  readonly #sinks: readonly AuditSink[];
  readonly #onAuditError: (error: unknown, decision: Decision) => void;
  readonly #clock: () => number;
  readonly #observers: DecisionObserver[];
  readonly #grants: GrantStore | undefined;
  // Checks in flight and recent static decisions, keyed by the bare call id: a gate's policy and
  // agent never change, so the id alone identifies the call (store keys add the namespace).
  readonly #inflight = new Map<string, { p: Promise<Decision>; req: Req }>();
  readonly #keys = new Map<string, string>();
  readonly #ids = new DecisionIds();
  readonly #recent = new BoundedMap<Decision>(RECENT_CALLS);
  /** Inline approvals being asked, by escalation id: a concurrent check of the same call waits for this one answer. */
  readonly #asking = new Map<string, Promise<Decision>>();
  /** `policy:agent:call:`, fixed for the gate's life: call keys are this plus the encoded call id. */
  #callPrefix: string | undefined;
  #isoMs = Number.NaN;
  #isoText = "";

  constructor(options: GateKeeperOptions) {
    if (!options || typeof options !== "object") throw new TypeError("GateKeeper needs { identity, policy }");
    // Own options only: a polluted Object.prototype (`approvalHandler`, `store`) must not configure the gate.
    options = ownCopy(options);
    const { identity, policy } = options;
    if (!identity || typeof identity.id !== "string") throw new TypeError("GateKeeper: identity must be an AgentIdentity");
    if (!policy || typeof policy.evaluate !== "function") throw new TypeError("GateKeeper: policy must be a PermissionPolicy");
    const positive = (v: number | undefined, name: string, dflt: number) => {
      if (v === undefined) return dflt;
      if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) throw new TypeError(`GateKeeper: ${name} must be a number >= 0`);
      return v;
    };
    this.identity = identity;
    this.policy = policy;
    this.store = options.store ?? new MemoryStore();
    this.#handler = options.approvalHandler;
    this.#timeoutMs = positive(options.approvalTimeoutMs, "approvalTimeoutMs", 300_000);
    this.#ttlMs = positive(options.approvalTtlMs, "approvalTtlMs", 86_400_000);
    this.#runTtlMs = positive(options.runRecordTtlMs, "runRecordTtlMs", 86_400_000);
    this.#audit = new AuditTrail(positive(options.auditLimit, "auditLimit", 10_000));
    this.#sinks = [...(options.auditSinks ?? [])];
    this.#onAuditError =
      options.onAuditError ??
      ((error, decision) => {
        console.warn(`[agentgate] audit sink failed for decision ${decision.id}: ${errorText(error)}`);
      });
    this.#clock = options.clock ?? Date.now;
    this.#observers = [...(options.observers ?? [])];
    if (options.grants !== undefined && !isGrantStore(options.grants)) throw new TypeError("GateKeeper: grants must implement GrantStore");
    this.#grants = options.grants;
  }

  /** True when an inline approval handler answers escalations. */
  get hasApprovalHandler(): boolean {
    return this.#handler !== undefined;
  }

  /** The audit history, oldest first, bounded by `auditLimit`. */
  get decisions(): readonly Decision[] {
    return this.#audit.toArray();
  }

  /** Adds an observer (used by telemetry integrations). Returns a function that removes it. */
  observe(observer: DecisionObserver): () => void {
    this.#observers.push(observer);
    return () => {
      const i = this.#observers.indexOf(observer);
      if (i >= 0) this.#observers.splice(i, 1);
    };
  }

  /**
   * Decides one action. Never throws for policy reasons: the Decision says
   * allow, deny or escalate. Rejects with `TypeError` for invalid arguments.
   */
  check(action: ActionName, targetOrOptions?: string | CheckOptions): Promise<Decision> {
    // Not `async`: the static path resolves without extra promise hops.
    let req: Req;
    try {
      req = parseRequest(action, targetOrOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      return this.#run(req);
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
    return this.#checkToolCall(call).then(undefined, (error: unknown) => {
      const toolName = typeof call === "object" && call !== null ? safeOwn(call, "toolName") : undefined;
      const name = typeof toolName === "string" && toolName !== "" ? toolName : undefined;
      return this.refuse("tool_use", `the gate failed while checking tool ${q(name ?? "(unnamed)")}: ${errorText(error)}`, name === undefined ? {} : { target: name });
    });
  }

  async #checkToolCall(call: ToolCall): Promise<Decision> {
    if (!call || typeof call !== "object") {
      return this.#refuse(toolReq(undefined, undefined, undefined), "invalid_input", `a tool call must be an object { toolName, input }, not ${call === null ? "null" : typeof call}`);
    }
    // Own properties only (a polluted Object.prototype must not supply any), read once each, without copying the call.
    const toolName = ownValue(call, "toolName");
    const input = ownValue(call, "input");
    const callId = ownValue(call, "callId");
    const mapping = ownValue(call, "mapping");
    const execute = ownValue(call, "execute") === true;
    if (typeof toolName !== "string" || toolName === "") {
      return this.#refuse(toolReq(undefined, undefined, undefined), "invalid_input", "the tool call has no tool name (toolName must be a non-empty string)");
    }
    if (callId !== undefined && (typeof callId !== "string" || callId === "")) {
      return this.#refuse(toolReq(toolName, undefined, { toolName }), "invalid_input", `tool ${q(toolName)}: the call id must be a non-empty string, not ${describeValue(callId)}`);
    }
    const context = { ...ownValue(call, "context"), toolName };
    if (callId !== undefined && callId.length > MAX_CALL_ID) {
      // Call ids can come from message history a browser sent: never keep megabytes of one in stores and audits.
      return this.#refuse({ action: "tool_use", target: toolName, args: undefined, callId: undefined, context }, "invalid_input", `the call id is longer than ${MAX_CALL_ID} characters`);
    }
    const inputError = ownValue(call, "inputError");
    if (inputError !== undefined) {
      return this.#refuse({ action: "tool_use", target: toolName, args: undefined, callId, context }, "invalid_input", `tool ${q(toolName)}: ${String(inputError)}`);
    }
    const mapped = mapping && Object.prototype.hasOwnProperty.call(mapping, toolName) ? mapping[toolName] : undefined;
    const entry = mapped && typeof mapped === "object" ? ownCopy(mapped) : mapped;
    if (entry === undefined) {
      return this.#run({ action: "tool_use", target: toolName, args: input, callId, context, execute });
    }
    const action = entry.action;
    if (typeof action !== "string" || action === "") {
      return this.#refuse({ action: "tool_use", target: toolName, args: input, callId, context }, "internal_error", `mapping for tool ${q(toolName)} has no valid action`);
    }
    let target: unknown;
    if (entry.target !== undefined) {
      try {
        target = entry.target(input);
      } catch (error) {
        return this.#refuse({ action, target: undefined, args: input, callId, context }, "invalid_target", `mapping for tool ${q(toolName)}: the target function threw: ${errorText(error)}`);
      }
      if (target !== undefined && typeof target !== "string") {
        return this.#refuse({ action, target: undefined, args: input, callId, context }, "invalid_target", `mapping for tool ${q(toolName)}: the target function returned ${target === null ? "null" : typeof target}, not a string`);
      }
    }
    return this.#run({ action, target: target as string | undefined, args: input, callId, context, execute });
  }

  /**
   * Settles a pending escalation (from a UI, a resume value, another process
   * sharing the store) and resolves the settled Decision. Rejects with
   * `EscalationError` for an unknown or already settled id: exactly one approver wins.
   */
  async resolveEscalation(escalationId: string, resolution: ApprovalResolution | boolean): Promise<Decision> {
    if (typeof escalationId !== "string" || escalationId === "") throw new TypeError("escalationId must be a non-empty string");
    const record = await this.store.getEscalation(escalationId);
    if (!record) {
      throw new EscalationError("AGENTGATE_ESCALATION_UNKNOWN", escalationId, `unknown escalation ${q(escalationId)}: the gate never raised it, or it expired`);
    }
    const answer = normalizeApproval(resolution);
    if (record.status !== "pending") {
      if (record.settled) this.#superseded(record, answer, undefined, record.settled);
      throw new EscalationError("AGENTGATE_ESCALATION_SETTLED", escalationId, `escalation ${q(escalationId)} is already settled (${record.status})`);
    }
    const settled = await this.#settle(record, answer, answer.valid ? undefined : ["approval_error", "the approval answer is malformed: expected { approved: boolean }"]);
    if (!settled.won) {
      throw new EscalationError("AGENTGATE_ESCALATION_SETTLED", escalationId, `escalation ${q(escalationId)} was settled by someone else first`);
    }
    return settled.decision;
  }

  /**
   * Open escalations this gate's agent raised under this policy, from every
   * process sharing the store, soonest to expire first. `callId` finds one
   * call's; `limit` and `after` page through them (an inbox). A shared store
   * answers from a per-agent index, whatever other agents have pending.
   */
  async pendingEscalations(options: PendingEscalationsOptions = {}): Promise<ApprovalRequest[]> {
    const scope = { policy: this.policy.name, agentId: this.identity.id };
    const query: EscalationQuery = { scope };
    if (options.callId !== undefined) {
      if (typeof options.callId !== "string" || options.callId === "" || options.callId.length > MAX_CALL_ID) return [];
      query.callKey = this.#callKey(options.callId);
    }
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new TypeError("pendingEscalations: limit must be a positive integer");
      query.limit = options.limit;
    }
    if (options.after !== undefined) {
      const last = typeof options.after === "string" && options.after !== "" ? await this.store.getEscalation(options.after) : undefined;
      if (!last) throw new EscalationError("AGENTGATE_ESCALATION_UNKNOWN", String(options.after), `unknown escalation ${q(String(options.after))} in pendingEscalations({ after }): it expired or was never raised`);
      query.after = { escalationId: last.escalationId, expiresAt: last.expiresAt };
    }
    const now = this.#clock();
    const records = await this.store.listEscalations(now, query);
    // Any store's answer is narrowed again: one that ignores the query is just slower.
    const mine = records.filter(
      (r) =>
        r.status === "pending" &&
        r.expiresAt > now &&
        r.decision.policy === scope.policy &&
        r.decision.agentId === scope.agentId &&
        (query.callKey === undefined || r.callKey === query.callKey),
    );
    return pageOf(mine, query).map((r) => r.request);
  }

  /**
   * Records a DENY for a failure outside the gate's own check (an adapter's glue,
   * an approval that cannot be waited for), so it is audited like every other
   * decision. Never throws, never an ALLOW.
   */
  refuse(action: string, reason: string, options: RefuseOptions = {}): Decision {
    const req: Req = {
      action: typeof action === "string" && action !== "" ? action : "unknown",
      target: typeof options.target === "string" ? options.target : undefined,
      args: undefined,
      callId: typeof options.callId === "string" && options.callId !== "" && options.callId.length <= MAX_CALL_ID ? options.callId : undefined,
      context: undefined,
    };
    const code: DecisionCode = options.code === "approval_error" ? "approval_error" : "internal_error";
    try {
      return this.#refuse(req, code, String(reason));
    } catch {
      // A throwing custom clock: still a DENY, stamped with the wall clock, unaudited.
      return makeDecision({ id: globalThis.crypto.randomUUID(), type: "deny", code, agentId: this.identity.id, agentName: this.identity.name, action: req.action, target: req.target, reason: String(reason), timestamp: new Date().toISOString(), policy: this.policy.name, callId: req.callId });
    }
  }

  /** Persists buffered audit records in every sink that buffers. */
  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.flush?.()));
  }

  /** Flushes and closes sinks. The store is the caller's to close. */
  async close(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => (s.close ? s.close() : s.flush?.())));
  }

  // ---------------------------------------------------------------------------

  #run(req: Req): Promise<Decision> {
    const key = req.callId;
    if (key === undefined) return this.#decide(req, undefined);
    const running = this.#inflight.get(key);
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
  #track(key: string, req: Req, pending: Promise<Decision>): Promise<Decision> {
    // `then` rather than `finally`: the same clean-up, without finally's extra promises per call.
    const done = (): void => {
      this.#inflight.delete(key);
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
    this.#inflight.set(key, { p, req });
    return p;
  }

  /**
   * `track` is the call id when this check should be registered as in flight. Static decisions
   * never are: they are complete when this returns, and `#recent` answers a repeat of the call
   * (the same decision, audited once), so they skip the per-call promise and map churn.
   */
  #decide(req: Req, track: string | undefined): Promise<Decision> {
    const startedAt = this.#clock();
    let ev: Evaluation;
    try {
      ev = this.policy.evaluate(req.action, req.target);
    } catch (error) {
      const refused = Promise.resolve(this.#refuse(req, "internal_error", `policy evaluation failed: ${errorText(error)}`));
      return track === undefined ? refused : this.#track(track, req, refused);
    }
    const rule = ev.rule;
    if (ev.type === "deny" || rule === undefined || (!rule.limited && ev.type === "allow")) {
      // Static decisions depend only on (action, target): a repeated call id gets the same one, audited once.
      const key = req.callId;
      if (key === undefined) return Promise.resolve(this.#emit(this.#decision(req, ev, startedAt), req, startedAt));
      const seen = this.#recent.get(key);
      if (seen !== undefined && seen.action === req.action && seen.target === ev.target && seen.code === ev.code) {
        return Promise.resolve(seen);
      }
      const decision = this.#emit(this.#decision(req, ev, startedAt), req, startedAt);
      this.#recent.set(key, decision);
      return Promise.resolve(decision);
    }
    const pending = this.#stateful(req, ev, startedAt);
    return track === undefined ? pending : this.#track(track, req, pending);
  }

  /**
   * Limits, thresholds, escalations and per-call records: one atomic store operation.
   * Without a call id and with a synchronous store (the default MemoryStore) this runs to the
   * end in place, with no promise hop; a call id (its fingerprint) or an async store takes the
   * awaited path. Never throws: failures come back as a rejected promise, as from an async function.
   */
  #stateful(req: Req, ev: Evaluation, startedAt: number): Promise<Decision> {
    try {
      const rule = ev.rule!;
      const decisionId = this.#ids.next();
      // Escalation ids go to humans and UIs: random, and only made when an escalation is possible.
      const escalationId = ev.type === "escalate" || rule.escalateAfter !== undefined ? globalThis.crypto.randomUUID() : "";
      let consumeReq: ConsumeRequest;
      try {
        consumeReq = {
          scope: { policy: this.policy.name, agentId: this.identity.id, action: req.action },
          key: this.#counterKey(req.action),
          now: startedAt,
          windowMs: WINDOW_MS,
          escalate: ev.type === "escalate",
          decisionId,
          escalationId,
        };
        if (rule.maxPerMinute !== undefined) consumeReq.maxPerMinute = rule.maxPerMinute;
        if (rule.denyAfter !== undefined) consumeReq.denyAfter = rule.denyAfter;
        if (rule.escalateAfter !== undefined) consumeReq.escalateAfter = rule.escalateAfter;
      } catch (error) {
        return Promise.resolve(this.#refuse(req, "internal_error", `cannot build the counter key for action ${q(req.action)}: ${errorText(error)}`));
      }
      const ids = { id: decisionId, at: startedAt, escalationId };
      if (req.callId !== undefined) return this.#statefulCall(req, ev, startedAt, consumeReq, ids);
      let pending: ConsumeResult | PromiseLike<ConsumeResult>;
      try {
        pending = this.store.consume(consumeReq);
      } catch (error) {
        return Promise.resolve(this.#storeFailed(req, error));
      }
      if (isThenable(pending)) return this.#awaitConsume(req, ev, startedAt, consumeReq, ids, pending);
      return this.#consumed(req, ev, startedAt, consumeReq, ids, pending);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The stateful path with a call id: the fingerprint binds the record to this exact input. */
  async #statefulCall(req: Req, ev: Evaluation, startedAt: number, consumeReq: ConsumeRequest, ids: DecisionIdsOf): Promise<Decision> {
    try {
      consumeReq.call = {
        key: this.#callKey(req.callId!),
        fingerprint: await callFingerprint(req.action, ev.target, req.args),
        ttlMs: this.#ttlMs,
        runTtlMs: this.#runTtlMs,
      };
      if (req.execute) consumeReq.call.execute = true;
    } catch (error) {
      return this.#refuse(req, "internal_error", `cannot fingerprint the call's arguments: ${errorText(error)}`);
    }
    let pending: ConsumeResult | PromiseLike<ConsumeResult>;
    try {
      pending = this.store.consume(consumeReq);
    } catch (error) {
      return this.#storeFailed(req, error);
    }
    return this.#awaitConsume(req, ev, startedAt, consumeReq, ids, pending);
  }

  async #awaitConsume(
    req: Req,
    ev: Evaluation,
    startedAt: number,
    consumeReq: ConsumeRequest,
    ids: DecisionIdsOf,
    pending: ConsumeResult | PromiseLike<ConsumeResult>,
  ): Promise<Decision> {
    let result: ConsumeResult;
    try {
      result = await pending;
    } catch (error) {
      return this.#storeFailed(req, error);
    }
    return this.#consumed(req, ev, startedAt, consumeReq, ids, result);
  }

  #storeFailed(req: Req, error: unknown): Decision {
    return this.#refuse(req, "store_unavailable", `state store unavailable, failing closed: ${errorText(error)}`);
  }

  /** Turns the store's answer into the decision: a repeat, an emitted decision, or an escalation. */
  #consumed(req: Req, ev: Evaluation, startedAt: number, consumeReq: ConsumeRequest, ids: DecisionIdsOf, result: ConsumeResult): Promise<Decision> {
    if (result.repeat) return this.#repeat(req, ev, result, consumeReq);
    const decision = this.#fromOutcome(req, ev, result, ids);
    if (decision.type !== "escalate") return Promise.resolve(this.#emit(decision, req, startedAt));
    let escalated = this.#escalate(req, decision, consumeReq, startedAt);
    // Registered before the escalation is even stored: a concurrent repeat of this call waits for this answer.
    if (this.#handler && consumeReq.call) escalated = this.#share(decision.escalationId!, escalated);
    return req.execute && consumeReq.call ? escalated.then((d) => this.#claim(req, d, consumeReq.call!)) : escalated;
  }

  /** One inline approval per escalation in this gate: checks of the same call share the answer. */
  #share(escalationId: string, asking: Promise<Decision>): Promise<Decision> {
    const done = (): void => {
      if (this.#asking.get(escalationId) === asking) this.#asking.delete(escalationId);
    };
    asking.then(done, done);
    this.#asking.set(escalationId, asking);
    return asking;
  }

  /**
   * An approval reached inline for a check that runs the call: claim the call's one run in the
   * store. Of all concurrent claims, in every process sharing the store, exactly one gets the ALLOW.
   */
  async #claim(req: Req, decision: Decision, call: NonNullable<ConsumeRequest["call"]>): Promise<Decision> {
    if (decision.type !== "allow") return decision;
    let claim: ClaimResult;
    try {
      claim = await this.store.claimCall({
        scope: { policy: this.policy.name, agentId: this.identity.id },
        key: call.key,
        fingerprint: call.fingerprint,
        now: this.#clock(),
        runTtlMs: this.#runTtlMs,
      });
    } catch (error) {
      return this.#refuse(req, "store_unavailable", `state store unavailable while claiming the approved call's run, failing closed: ${errorText(error)}`);
    }
    if (claim === "claimed") return decision;
    if (claim === "replayed") return this.#replayed(req);
    if (claim === "mismatch") return this.#mismatched(req);
    const why = claim === "unknown" ? "is gone (expired or evicted)" : "does not hold an approval";
    return this.#refuse(req, "approval_error", `the record of call id ${q(req.callId)} ${why}, so the approved call does not run`);
  }

  #replayed(req: Req): Decision {
    return this.#refuse(req, "call_replayed", `call id ${q(req.callId)} already ran once; a replayed call (an old message history or saved run state sent again) is refused`);
  }

  #mismatched(req: Req): Decision {
    return this.#refuse(req, "call_mismatch", `call id ${q(req.callId)} was already decided for a different action, target or arguments; an approval or decision never carries over to another input`);
  }

  async #repeat(req: Req, ev: Evaluation, result: ConsumeResult, consumeReq: ConsumeRequest): Promise<Decision> {
    const rec = result.repeat!;
    if (rec.mismatch) return this.#mismatched(req);
    if (req.execute && rec.executed) return this.#replayed(req);
    if (rec.settled) return rec.settled;
    const original = this.#fromOutcome(req, ev, { outcome: rec.outcome, used: rec.used, ...(rec.retryAfterMs !== undefined ? { retryAfterMs: rec.retryAfterMs } : {}), ...(rec.fallback ? { fallback: true } : {}) }, {
      id: rec.decisionId,
      at: rec.at,
      escalationId: rec.escalationId,
    });
    if (original.type !== "escalate" || !this.#handler) return original;
    // A pending escalation with an inline handler: wait for the answer this gate is already asking
    // for, else (raised by another process, or one that died) ask now.
    const settled = await (this.#asking.get(rec.escalationId) ?? this.#share(rec.escalationId, this.#askPending(req, rec.escalationId, original)));
    // The store marked nothing executed for this check (the call was not yet approved when it looked).
    return req.execute && consumeReq.call ? this.#claim(req, settled, consumeReq.call) : settled;
  }

  /** Reads a pending escalation back from the store and asks the inline handler about it. */
  async #askPending(req: Req, escalationId: string, original: Decision): Promise<Decision> {
    try {
      let record = await this.store.getEscalation(escalationId);
      // Another process may have recorded the call but not yet its escalation: give it a moment (~300 ms).
      for (let wait = 10; !record && wait <= 160; wait *= 2) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        record = await this.store.getEscalation(escalationId);
      }
      if (!record) return this.#refuse(req, "approval_error", `escalation ${escalationId} for this call is gone`);
      if (record.status !== "pending") return record.settled ?? original;
      return await this.#ask(record);
    } catch (error) {
      return this.#refuse(req, "store_unavailable", `state store unavailable, failing closed: ${errorText(error)}`);
    }
  }

  async #escalate(req: Req, decision: Decision, consumeReq: ConsumeRequest, startedAt: number): Promise<Decision> {
    let args: unknown;
    if (req.args !== undefined) {
      try {
        args = JSON.parse(canonicalJson(req.args));
      } catch {
        args = "[arguments not JSON-serialisable]";
      }
    }
    const request: ApprovalRequest = {
      escalationId: decision.escalationId!,
      agent: { id: this.identity.id, name: this.identity.name },
      action: req.action,
      reason: decision.reason,
    };
    if (req.callId !== undefined) request.callId = req.callId;
    if (decision.target !== undefined) request.target = decision.target;
    if (args !== undefined) request.args = args;
    const record: EscalationRecord = {
      escalationId: decision.escalationId!,
      status: "pending",
      request,
      decision,
      reservation: { key: consumeReq.key, scope: consumeReq.scope, member: consumeReq.decisionId, at: consumeReq.now },
      createdAt: startedAt,
      expiresAt: startedAt + this.#ttlMs,
    };
    if (consumeReq.call) record.callKey = consumeReq.call.key;
    try {
      await this.store.createEscalation(record, this.#ttlMs);
    } catch (error) {
      return this.#refuse(req, "store_unavailable", `state store unavailable, cannot record the escalation, failing closed: ${errorText(error)}`);
    }
    if (this.#grants) {
      // A live grant answers instead of a human; a grant store failure just asks a human (never an ALLOW).
      const granted = await applyGrant(this.#grants, this.store, record, req.context?.toolName, this.#clock()).catch(() => undefined);
      if (granted) return this.#emit(granted, req, startedAt);
    }
    this.#emit(decision, req, startedAt);
    if (!this.#handler) return decision;
    return this.#ask(record);
  }

  /** Runs the inline approval handler with a timeout; every failure is a DENY. */
  async #ask(record: EscalationRecord): Promise<Decision> {
    const handler = this.#handler!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failure: [DecisionCode, string] | undefined;
    let answer: ReturnType<typeof normalizeApproval> = { approved: false, valid: false };
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ApprovalTimeout()), this.#timeoutMs);
      });
      const raw = await Promise.race([Promise.resolve().then(() => handler(structuredClone(record.request))), timeout]);
      answer = normalizeApproval(raw);
      if (!answer.valid) failure = ["approval_error", `the approval handler returned ${describeAnswer(raw)}, not a boolean or { approved: boolean }`];
    } catch (error) {
      failure =
        error instanceof ApprovalTimeout
          ? ["approval_timeout", `no approval within ${this.#timeoutMs} ms (approvalTimeoutMs)`]
          : ["approval_error", `the approval handler failed: ${errorText(error)}`];
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    try {
      const settled = await this.#settle(record, answer, failure);
      return settled.decision;
    } catch (error) {
      return this.#refuse(requestToReq(record), "store_unavailable", `state store unavailable while settling the approval, failing closed: ${errorText(error)}`);
    }
  }

  /** Turns an answer into the settled decision and records it; exactly one settle wins. */
  async #settle(
    record: EscalationRecord,
    answer: ApprovalResolution,
    failure?: [DecisionCode, string],
  ): Promise<{ decision: Decision; won: boolean }> {
    const now = this.#clock();
    const base = record.decision;
    const self = isSelfApproval(answer.approvedBy, { id: base.agentId, name: base.agentName });
    let code: DecisionCode;
    let reason: string;
    if (failure) [code, reason] = failure;
    else if (now > record.expiresAt) [code, reason] = ["approval_expired", `the approval came after the escalation expired (approvalTtlMs ${this.#ttlMs} ms)`];
    else if (answer.approved && self) [code, reason] = ["self_approval", `agent ${q(base.agentName)} cannot approve its own escalation`];
    else if (answer.approved) [code, reason] = ["approved", `approved${answer.approvedBy ? ` by ${answer.approvedBy}` : ""}: ${base.reason}`];
    else [code, reason] = ["approval_denied", `a human denied it${answer.approvedBy ? ` (${answer.approvedBy})` : ""}${answer.reason ? `: ${answer.reason}` : ""}`];
    const approved = code === "approved";
    const decision = makeDecision({
      id: globalThis.crypto.randomUUID(),
      type: approved ? "allow" : "deny",
      code,
      agentId: base.agentId,
      agentName: base.agentName,
      action: base.action,
      target: base.target,
      reason,
      timestamp: new Date(now).toISOString(),
      policy: base.policy,
      approvedBy: approved ? answer.approvedBy : undefined,
      callId: base.callId,
      escalationId: record.escalationId,
      mode: base.mode,
    });
    const result = await this.store.settleEscalation(record.escalationId, decision, !approved);
    if (!result.ok) {
      const other = result.record?.settled;
      if (other) {
        // A handler relaying an answer given elsewhere (an approval server) agrees with the winner:
        // this gate's audit gets the final decision. A different answer is audited as superseded.
        const agrees = !failure && answer.approved === (other.type === "allow") && (!answer.approved || answer.approvedBy === other.approvedBy);
        if (agrees) this.#emit(other, requestToReq(record), now);
        else this.#superseded(record, answer, failure, other);
        return { decision: other, won: false };
      }
      throw new EscalationError("AGENTGATE_ESCALATION_UNKNOWN", record.escalationId, `escalation ${q(record.escalationId)} disappeared from the store`);
    }
    this.#emit(decision, requestToReq(record), now);
    return { decision, won: true };
  }

  /** Audits an answer that lost to another approver: it changes nothing, but who said what is kept. */
  #superseded(record: EscalationRecord, answer: ApprovalResolution, failure: [DecisionCode, string] | undefined, winner: Decision): void {
    const by = answer.approvedBy ? ` by ${answer.approvedBy}` : "";
    const what = failure ? `the approval outcome "${failure[0]}"` : answer.approved ? `an approval${by}` : `a denial${by}`;
    const won = `${winner.code}${winner.approvedBy ? ` by ${winner.approvedBy}` : ""}`;
    const reason = `${what} came after escalation ${q(record.escalationId)} was settled (${won}); it changes nothing`;
    this.#refuse(requestToReq(record), "approval_superseded", reason, record.escalationId);
  }

  #fromOutcome(req: Req, ev: Evaluation, result: ConsumeResult, ids: DecisionIdsOf): Decision {
    const rule = ev.rule!;
    const name = rule.label; // `rule "<action>"`, precomputed
    let type = ev.type;
    let code: DecisionCode = ev.code;
    let reason = ev.reason;
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
        if (ev.type !== "escalate") {
          code = "escalate_after";
          reason = `${name}: escalate_after threshold reached (${result.used} of ${rule.escalateAfter} uses), so a human must approve`;
        }
        break;
      case "allow":
        break;
    }
    if (result.fallback) reason += " [decided with in-process limits: shared store unavailable]";
    return makeDecision({
      id: ids.id,
      type,
      code,
      agentId: this.identity.id,
      agentName: this.identity.name,
      action: req.action,
      target: ev.target,
      reason,
      timestamp: this.#iso(ids.at),
      policy: this.policy.name,
      callId: req.callId,
      escalationId: type === "escalate" ? ids.escalationId : undefined,
      retryAfterMs,
      mode: result.fallback ? "local-fallback" : undefined,
    });
  }

  #decision(req: Req, ev: Evaluation, now: number): Decision {
    return makeDecision({
      id: this.#ids.next(),
      type: ev.type,
      code: ev.code,
      agentId: this.identity.id,
      agentName: this.identity.name,
      action: req.action,
      target: ev.target,
      reason: ev.reason,
      timestamp: this.#iso(now),
      policy: this.policy.name,
      callId: req.callId,
    });
  }

  /** A DENY for a failure of the gate's own machinery (never an ALLOW). */
  #refuse(req: Req, code: DecisionCode, reason: string, escalationId?: string): Decision {
    const now = this.#clock();
    const decision = makeDecision({
      id: globalThis.crypto.randomUUID(),
      type: "deny",
      code,
      agentId: this.identity.id,
      agentName: this.identity.name,
      action: req.action,
      target: req.target,
      reason,
      timestamp: new Date(now).toISOString(),
      policy: this.policy.name,
      callId: req.callId,
      escalationId,
    });
    return this.#emit(decision, req, now);
  }

  /** Records a decision: audit trail first (never lost), then sinks and observers, none of which can break the check. */
  #emit(decision: Decision, req: Req, startedAt: number): Decision {
    if (decision.type === "allow" && this.#sinks.length > 0) decision = this.#unlessAuditUnavailable(decision);
    this.#audit.push(decision);
    if (this.#sinks.length > 0) {
      const event: AuditEvent = {};
      if (req.args !== undefined) event.args = req.args;
      if (req.context !== undefined) event.context = req.context;
      for (const sink of this.#sinks) {
        try {
          const r = sink.write(decision, event);
          if (r && typeof (r as Promise<void>).then === "function") {
            (r as Promise<void>).then(undefined, (error) => this.#auditFailed(error, decision));
          }
        } catch (error) {
          this.#auditFailed(error, decision);
        }
      }
    }
    if (this.#observers.length > 0) {
      const event = { args: req.args, context: req.context, startedAt };
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

  /** An ALLOW stands only while every sink can record it; a sink that says it cannot (`unavailable`) makes it a DENY. */
  #unlessAuditUnavailable(decision: Decision): Decision {
    for (const sink of this.#sinks) {
      let why: unknown;
      try {
        why = sink.unavailable;
      } catch (error) {
        why = `the audit sink failed: ${errorText(error)}`;
      }
      if (why === undefined || why === "") continue;
      const { id, agentId, agentName, action, target, timestamp, policy, callId, escalationId } = decision;
      return makeDecision({ id, type: "deny", code: "internal_error", agentId, agentName, action, target, reason: `audit unavailable: ${String(why)}`, timestamp, policy, callId, escalationId });
    }
    return decision;
  }

  #auditFailed(error: unknown, decision: Decision): void {
    try {
      this.#onAuditError(error, decision);
    } catch {
      // An error handler that throws must not take the agent down.
    }
  }

  /** ISO timestamps, cached per millisecond: many checks share one. */
  #iso(ms: number): string {
    if (ms !== this.#isoMs) {
      this.#isoMs = ms;
      this.#isoText = new Date(ms).toISOString();
    }
    return this.#isoText;
  }

  #counterKey(action: string): string {
    let key = this.#keys.get(action);
    if (key === undefined) {
      key = `${encodeURIComponent(this.policy.name)}:${this.identity.id}:${encodeURIComponent(action)}`;
      this.#keys.set(action, key);
    }
    return key;
  }

  #callKey(callId: string): string {
    this.#callPrefix ??= `${encodeURIComponent(this.policy.name)}:${this.identity.id}:call:`;
    return this.#callPrefix + encodeURIComponent(callId);
  }
}


class ApprovalTimeout extends Error {}

/** The ids a stateful decision was given before the store answered. */
interface DecisionIdsOf {
  id: string;
  at: number;
  escalationId: string;
}

/**
 * Decision ids in UUID layout: a random 80-bit prefix per gate plus a counter.
 * Unique (across processes too) and far cheaper than a fresh random UUID per check;
 * ids are identifiers, not secrets.
 */
class DecisionIds {
  #prefix = "";
  #counter = 0;
  /** `#prefix` plus the counter's upper 9 hex digits, rebuilt every 4096 ids. */
  #base = "";
  #baseOf = -1;

  next(): string {
    if (this.#counter === 0 || this.#counter >= 0xffffffffffff) this.#reseed();
    const n = this.#counter++;
    const high = Math.floor(n / 4096);
    if (high !== this.#baseOf) {
      this.#baseOf = high;
      this.#base = this.#prefix + high.toString(16).padStart(9, "0");
    }
    // The last 3 hex digits from a shared table: one concatenation per id.
    return this.#base + LOW_HEX[n % 4096]!;
  }

  #reseed(): void {
    const u = globalThis.crypto.randomUUID();
    this.#prefix = u.slice(0, 24);
    this.#counter = 1 + Math.floor(Math.random() * 0xffffffff);
    this.#baseOf = -1;
  }
}

/** "000" to "fff". */
const LOW_HEX: readonly string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, "0"));

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as PromiseLike<T>).then === "function";
}

/** A prototype-free copy of an object's own fields: what is not set is `undefined`, never inherited. */
function ownCopy<T extends object>(value: T): T {
  return Object.assign(Object.create(null) as T, value);
}

const isOwnEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * `ownCopy(value)[key]` without the copy (a dictionary-mode object per call on the hot path):
 * the own enumerable property, or undefined when the value only inherits it.
 */
function ownValue<T extends object, K extends keyof T>(value: T, key: K): T[K] | undefined {
  return isOwnEnumerable.call(value, key) ? value[key] : undefined;
}

function describeAnswer(raw: unknown): string {
  if (raw === undefined) return "undefined";
  if (raw === null) return "null";
  if (typeof raw === "object") return "an object without a boolean `approved`";
  return `${typeof raw} ${String(raw).slice(0, 40)}`;
}

/** A tool-call request refused before it was read: `tool_use` on the tool's name, when there is one. */
function toolReq(toolName: string | undefined, callId: string | undefined, context: Record<string, unknown> | undefined): Req {
  return { action: "tool_use", target: toolName, args: undefined, callId, context };
}

/** `value[key]` for an own property, or undefined when reading it throws (a hostile getter or proxy). */
function safeOwn(value: object, key: string): unknown {
  try {
    return isOwnEnumerable.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return "an empty string";
  return `a ${typeof value}`;
}

function requestToReq(record: EscalationRecord): Req {
  const r = record.request;
  return { action: r.action, target: r.target, args: r.args, callId: r.callId, context: undefined };
}

function parseRequest(action: unknown, targetOrOptions: unknown): Req {
  if (typeof action !== "string" || action === "") throw new TypeError("action must be a non-empty string");
  if (targetOrOptions === undefined) return { action, target: undefined, args: undefined, callId: undefined, context: undefined };
  if (typeof targetOrOptions === "string") return { action, target: targetOrOptions, args: undefined, callId: undefined, context: undefined };
  if (typeof targetOrOptions !== "object" || targetOrOptions === null || Array.isArray(targetOrOptions)) {
    throw new TypeError("the second argument of check must be a target string or { target?, args?, callId?, context? }");
  }
  // Own properties only, each read once, without copying the options object.
  const o = targetOrOptions as CheckOptions;
  const target = ownValue(o, "target");
  const args = ownValue(o, "args");
  const callId = ownValue(o, "callId");
  const context = ownValue(o, "context");
  const execute = ownValue(o, "execute") === true;
  if (target !== undefined && typeof target !== "string") throw new TypeError("target must be a string");
  if (callId !== undefined && (typeof callId !== "string" || callId === "")) throw new TypeError("callId must be a non-empty string");
  if (callId !== undefined && callId.length > MAX_CALL_ID) throw new TypeError(`callId must be at most ${MAX_CALL_ID} characters`);
  if (context !== undefined && (typeof context !== "object" || context === null)) throw new TypeError("context must be an object");
  return execute ? { action, target, args, callId, context, execute } : { action, target, args, callId, context };
}
