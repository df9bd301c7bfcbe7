import { EscalationError } from "../errors/escalation-error.js";
import { EscalationLimitError } from "../errors/escalation-limit-error.js";
import {
  approvalRequestFor,
  isSelfApproval,
  normalizeApproval,
  type ApprovalHandler,
  type ApprovalRequest,
  type ApprovalResolution,
} from "./approval.js";
import { askApprover } from "./ask-approver.js";
import type { Decision, DecisionCode } from "./decision.js";
import { canonicalJson } from "./fingerprint.js";
import type { GateParts } from "./gate-parts.js";
import { applyGrant, type GrantStore } from "./grants.js";
import { pageOf } from "./memory-store.js";
import type { ConsumeRequest, EscalationQuery, EscalationRecord } from "./store.js";
import { errorText } from "../errors/error-text.js";
import { callKeyPrefix, MAX_CALL_ID, quote, requestOf, type CheckRequest } from "./tool-call.js";
import { abandonUnrecorded, escalationOfRepeat } from "./escalations-unrecorded.js";

/** Options of `gate.pendingEscalations`. */
export interface PendingEscalationsOptions {
  /** Only the escalation of this call id. */
  callId?: string;
  /** At most this many (a page of an inbox), soonest to expire first. */
  limit?: number;
  /** The `escalationId` of the last request of the previous page. */
  after?: string;
}

type Failure = [DecisionCode, string];

/**
 * Escalations: recorded in the store, asked of the inline handler (once per escalation in
 * this gate, however many checks of the call wait), settled exactly once across processes.
 */
export class Escalations {
  readonly #gate: GateParts;
  readonly #handler: ApprovalHandler | undefined;
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #grants: GrantStore | undefined;
  /** Inline approvals being asked, by escalation id: a concurrent check of the same call waits for this one answer. */
  #asking: Map<string, Promise<Decision>> | undefined;

  constructor(
    gate: GateParts,
    options: {
      handler: ApprovalHandler | undefined;
      timeoutMs: number;
      ttlMs: number;
      grants?: GrantStore | undefined;
    },
  ) {
    this.#gate = gate;
    this.#grants = options.grants;
    this.#handler = options.handler;
    this.#timeoutMs = options.timeoutMs;
    this.#ttlMs = options.ttlMs;
  }

  get hasHandler(): boolean {
    return this.#handler !== undefined;
  }

  /**
   * Records a new escalation and, with an inline handler, asks it: resolves the ESCALATE
   * decision, or the settled one. Concurrent checks of the same call share the answer.
   */
  open(request: CheckRequest, decision: Decision, consumeReq: ConsumeRequest, startedAt: number): Promise<Decision> {
    const opened = this.#open(request, decision, consumeReq, startedAt);
    // Registered before the escalation is even stored: a concurrent repeat of this call waits for this answer.
    return this.#handler && consumeReq.call ? this.#share(decision.escalationId!, opened) : opened;
  }

  /**
   * A repeat of a call whose escalation is pending: the inline handler's answer (asked once), else
   * `original` while the escalation still waits in the store. An escalation the store does not
   * have is looked for under one rule, with or without a handler (`ESCALATION_WRITE_WINDOW_MS`):
   * still missing, it is a DENY, since nobody could ever answer that ESCALATE.
   */
  answerFor(request: CheckRequest, escalationId: string, original: Decision, raisedAt: number): Promise<Decision> {
    if (!this.#handler) return this.#stillPending(request, escalationId, original, raisedAt);
    // Raised by this gate: wait for its answer; else (another process, or one that died) ask now.
    return (
      this.#asking?.get(escalationId) ??
      this.#share(escalationId, this.#askPending(request, escalationId, original, raisedAt))
    );
  }

  /** `gate.resolveEscalation`: see there. */
  async resolve(escalationId: string, resolution: ApprovalResolution | boolean): Promise<Decision> {
    const record = await this.#gate.store.getEscalation(escalationId);
    if (!record) {
      throw new EscalationError(
        "AGENTGATE_ESCALATION_UNKNOWN",
        escalationId,
        `unknown escalation ${quote(escalationId)}: the gate never raised it, or it expired`,
      );
    }
    const answer = normalizeApproval(resolution);
    if (record.status !== "pending") {
      if (record.settled) this.#superseded(record, answer, undefined, record.settled);
      throw new EscalationError(
        "AGENTGATE_ESCALATION_SETTLED",
        escalationId,
        `escalation ${quote(escalationId)} is already settled (${record.status})`,
      );
    }
    const malformed: Failure | undefined = answer.valid
      ? undefined
      : ["approval_error", "the approval answer is malformed: expected { approved: boolean }"];
    const settled = await this.#settle(record, answer, malformed);
    if (!settled.won) {
      throw new EscalationError(
        "AGENTGATE_ESCALATION_SETTLED",
        escalationId,
        `escalation ${quote(escalationId)} was settled by someone else first`,
      );
    }
    return settled.decision;
  }

  /** `gate.pendingEscalations`: this agent's, under this policy, soonest to expire first; a shared store answers from its index. */
  async pending(options: PendingEscalationsOptions = {}): Promise<ApprovalRequest[]> {
    return (await this.#mine(options)).map((r) => r.request);
  }

  /** The newest open escalation this gate's agent and policy raised for `callId`. */
  async pendingFor(callId: string): Promise<ApprovalRequest | undefined> {
    let newest: EscalationRecord | undefined;
    for (const r of await this.#mine({ callId })) if (!newest || r.createdAt > newest.createdAt) newest = r;
    return newest?.request;
  }

  async #mine(options: PendingEscalationsOptions): Promise<EscalationRecord[]> {
    const gate = this.#gate;
    const scope = { policy: gate.policy.name, agentId: gate.identity.id };
    const query: EscalationQuery = { scope };
    if (options.callId !== undefined) {
      if (typeof options.callId !== "string" || options.callId === "" || options.callId.length > MAX_CALL_ID) return [];
      query.callKey = callKeyPrefix(scope.policy, scope.agentId) + encodeURIComponent(options.callId);
    }
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 1)
        throw new TypeError("pendingEscalations: limit must be a positive integer");
      query.limit = options.limit;
    }
    if (options.after !== undefined) {
      const last =
        typeof options.after === "string" && options.after !== ""
          ? await gate.store.getEscalation(options.after)
          : undefined;
      if (!last)
        throw new EscalationError(
          "AGENTGATE_ESCALATION_UNKNOWN",
          String(options.after),
          `unknown escalation ${quote(String(options.after))} in pendingEscalations({ after }): it expired or was never raised`,
        );
      query.after = { escalationId: last.escalationId, expiresAt: last.expiresAt };
    }
    const now = gate.clock();
    const records = await gate.store.listEscalations(now, query);
    // Any store's answer is narrowed again: one that ignores the query is just slower.
    const mine = records.filter(
      (r) =>
        r.status === "pending" &&
        r.expiresAt > now &&
        r.decision.policy === scope.policy &&
        r.decision.agentId === scope.agentId &&
        (query.callKey === undefined || r.callKey === query.callKey),
    );
    return pageOf(mine, query);
  }

  /** `gate.answerEscalation`: settles, or reads back whoever settled first. */
  async answer(escalationId: string, resolution: ApprovalResolution | boolean): Promise<Decision> {
    try {
      return await this.resolve(escalationId, resolution);
    } catch (error) {
      if (!EscalationError.isInstance(error) || error.code !== "AGENTGATE_ESCALATION_SETTLED") throw error;
      const record = await this.#gate.store.getEscalation(escalationId);
      if (record?.settled) return record.settled;
      throw error;
    }
  }

  #share(escalationId: string, asking: Promise<Decision>): Promise<Decision> {
    const map = (this.#asking ??= new Map());
    const done = (): void => {
      if (map.get(escalationId) === asking) map.delete(escalationId);
    };
    asking.then(done, done);
    map.set(escalationId, asking);
    return asking;
  }

  async #open(req: CheckRequest, decision: Decision, consumeReq: ConsumeRequest, startedAt: number): Promise<Decision> {
    const gate = this.#gate;
    let args: unknown;
    if (req.args !== undefined) {
      try {
        args = JSON.parse(canonicalJson(req.args));
      } catch {
        args = "[arguments not JSON-serialisable]";
      }
    }
    const request = approvalRequestFor(gate.identity, decision, args);
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
      await gate.store.createEscalation(record, this.#ttlMs);
    } catch (error) {
      if (EscalationLimitError.isInstance(error)) return gate.failClosed(req, "escalation_limit", error.message);
      return abandonUnrecorded(gate, req, record, error);
    }
    if (this.#grants) {
      // A live grant answers instead of a human; a grant store failure just asks a human (never an ALLOW).
      const granted = await applyGrant(this.#grants, gate.store, record, req.context?.toolName, gate.clock()).catch(
        () => undefined,
      );
      if (granted) return gate.audit.record(granted, req, startedAt);
    }
    gate.audit.record(decision, req, startedAt);
    if (!this.#handler) return decision;
    return this.#ask(record);
  }

  /** Reads a pending escalation back from the store and asks the inline handler about it. */
  async #askPending(req: CheckRequest, escalationId: string, original: Decision, raisedAt: number): Promise<Decision> {
    try {
      const record = await this.#recordOf(escalationId, raisedAt);
      if (!record) return this.#gone(req, escalationId);
      if (record.status !== "pending") return record.settled ?? original;
      return await this.#ask(record);
    } catch (error) {
      return this.#gate.failClosed(
        req,
        "store_unavailable",
        `state store unavailable, failing closed: ${errorText(error)}`,
      );
    }
  }

  /** Without an inline handler: `original` while its escalation waits for an answer, else what became of it. */
  async #stillPending(
    req: CheckRequest,
    escalationId: string,
    original: Decision,
    raisedAt: number,
  ): Promise<Decision> {
    try {
      const record = await this.#recordOf(escalationId, raisedAt);
      if (!record) return this.#gone(req, escalationId);
      return record.status === "pending" ? original : (record.settled ?? original);
    } catch (error) {
      return this.#gate.failClosed(
        req,
        "store_unavailable",
        `state store unavailable, failing closed: ${errorText(error)}`,
      );
    }
  }

  /** The escalation's record: another process may have recorded the call but not yet its escalation. */
  #recordOf(escalationId: string, raisedAt: number): Promise<EscalationRecord | undefined> {
    return escalationOfRepeat(this.#gate.store, escalationId, raisedAt, this.#gate.clock());
  }

  #gone(req: CheckRequest, escalationId: string): Decision {
    const reason = `escalation ${escalationId} for this call is gone (never stored, or expired): nobody can answer it`;
    return this.#gate.failClosed(req, "approval_error", reason);
  }

  /** Runs the inline approval handler with a timeout (see `askApprover`); every failure is a DENY. */
  async #ask(record: EscalationRecord): Promise<Decision> {
    const asked = await askApprover(this.#handler!, record.request, { timeoutMs: this.#timeoutMs });
    const failure: Failure | undefined = "answer" in asked ? undefined : [asked.code, asked.failure];
    const answer = "answer" in asked ? asked.answer : { approved: false };
    try {
      return (await this.#settle(record, answer, failure)).decision;
    } catch (error) {
      return this.#gate.failClosed(
        requestOf(record),
        "store_unavailable",
        `state store unavailable while settling the approval, failing closed: ${errorText(error)}`,
      );
    }
  }

  /** Turns an answer into the settled decision and records it; exactly one settle wins. */
  async #settle(
    record: EscalationRecord,
    answer: ApprovalResolution,
    failure?: Failure,
  ): Promise<{ decision: Decision; won: boolean }> {
    const gate = this.#gate;
    const now = gate.clock();
    const base = record.decision;
    const by = answer.approvedBy;
    let code: DecisionCode;
    let reason: string;
    if (failure) [code, reason] = failure;
    else if (now > record.expiresAt)
      [code, reason] = [
        "approval_expired",
        `the approval came after the escalation expired (approvalTtlMs ${this.#ttlMs} ms)`,
      ];
    else if (answer.approved && isSelfApproval(by, { id: base.agentId, name: base.agentName })) {
      [code, reason] = ["self_approval", `agent ${quote(base.agentName)} cannot approve its own escalation`];
    } else if (answer.approved) [code, reason] = ["approved", `approved${by ? ` by ${by}` : ""}: ${base.reason}`];
    else
      [code, reason] = [
        "approval_denied",
        `a human denied it${by ? ` (${by})` : ""}${answer.reason ? `: ${answer.reason}` : ""}`,
      ];
    const approved = code === "approved";
    const decision = gate.build.make({
      id: globalThis.crypto.randomUUID(),
      type: approved ? "allow" : "deny",
      code,
      agent: { id: base.agentId, name: base.agentName },
      policy: base.policy,
      action: base.action,
      target: base.target,
      reason,
      timestamp: new Date(now).toISOString(),
      approvedBy: approved ? by : undefined,
      callId: base.callId,
      escalationId: record.escalationId,
      mode: base.mode,
    });
    const result = await gate.store.settleEscalation(record.escalationId, decision, !approved);
    if (!result.ok) {
      const other = result.record?.settled;
      if (other) {
        // A handler relaying an answer given elsewhere (an approval server) agrees with the winner:
        // this gate's audit gets the final decision. A different answer is audited as superseded.
        const agrees =
          !failure &&
          answer.approved === (other.type === "allow") &&
          (!answer.approved || answer.approvedBy === other.approvedBy);
        if (agrees) gate.audit.record(other, requestOf(record), now);
        else this.#superseded(record, answer, failure, other);
        return { decision: other, won: false };
      }
      throw new EscalationError(
        "AGENTGATE_ESCALATION_UNKNOWN",
        record.escalationId,
        `escalation ${quote(record.escalationId)} disappeared from the store`,
      );
    }
    gate.audit.record(decision, requestOf(record), now);
    return { decision, won: true };
  }

  /** Audits an answer that lost to another approver: it changes nothing, but who said what is kept. */
  #superseded(
    record: EscalationRecord,
    answer: ApprovalResolution,
    failure: Failure | undefined,
    winner: Decision,
  ): void {
    const by = answer.approvedBy ? ` by ${answer.approvedBy}` : "";
    const what = failure
      ? `the approval outcome "${failure[0]}"`
      : answer.approved
        ? `an approval${by}`
        : `a denial${by}`;
    const won = `${winner.code}${winner.approvedBy ? ` by ${winner.approvedBy}` : ""}`;
    const reason = `${what} came after escalation ${quote(record.escalationId)} was settled (${won}); it changes nothing`;
    this.#gate.failClosed(requestOf(record), "approval_superseded", reason, record.escalationId);
  }
}
