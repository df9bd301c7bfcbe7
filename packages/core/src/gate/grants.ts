import { isSelfApproval, normalizeApproval, type ApprovalResolution } from "./approval.js";
import { makeDecision, type Decision } from "./decision.js";
import type { EscalationRecord, GateStore, MaybePromise, SettleResult } from "./store.js";

/**
 * A standing, scoped approval ("Approve for 1 hour"): while it lives, the same
 * agent's escalations for the same action, target and tool are ALLOWed with
 * code `granted` instead of asking a human again. Grants only ever replace an
 * ESCALATE: a DENY (policy, limits) stays a DENY.
 */
export interface Grant {
  id: string;
  agentId: string;
  agentName?: string;
  action: string;
  /** The normalised target as the gate matched it; "" for none. */
  target: string;
  /** The tool name for tool calls; "" matches any tool (a mapped tool's escalation does not name it). */
  tool: string;
  /** Who granted it (an approver's id). */
  approvedBy: string;
  /** How the approver signed in, e.g. "password" or "token". */
  via?: string;
  /** The escalation whose answer created it. */
  escalationId?: string;
  createdAt: number;
  expiresAt: number;
  /** Remaining uses; absent means unlimited until `expiresAt`. */
  usesLeft?: number;
}

/** What a grant is matched on. */
export interface GrantMatch {
  agentId: string;
  action: string;
  target: string;
  tool: string;
}

/**
 * Grant storage, shared like the rest of the gate's state. `MemoryStore` and
 * `RedisStore` implement it; pass the store as `grants` to `GateKeeper`.
 */
export interface GrantStore {
  createGrant(grant: Grant): MaybePromise<void>;
  /** Atomically finds a live grant for `match`, spends one use, and returns it (as it was before the use). */
  useGrant(match: GrantMatch, now: number): MaybePromise<Grant | undefined>;
  /** Live grants, soonest expiry first. */
  listGrants(now: number): MaybePromise<Grant[]>;
  /** Removes a grant; returns it, or `undefined` when unknown or already gone. */
  revokeGrant(id: string): MaybePromise<Grant | undefined>;
}

/** True when the value has the four grant methods. */
export function isGrantStore(value: unknown): value is GrantStore {
  const v = value as Partial<GrantStore> | null;
  return (
    !!v &&
    typeof v.createGrant === "function" &&
    typeof v.useGrant === "function" &&
    typeof v.listGrants === "function" &&
    typeof v.revokeGrant === "function"
  );
}

/** The grant match of an escalation: its agent, action, target and tool. */
export function grantMatchOf(record: Pick<EscalationRecord, "request" | "decision">, tool?: string): GrantMatch {
  return {
    agentId: record.decision.agentId,
    action: record.decision.action,
    target: record.decision.target ?? "",
    tool: tool ?? toolOf(record),
  };
}

function toolOf(record: Pick<EscalationRecord, "request">): string {
  const r = record.request;
  // Tool calls are `tool_use` with the tool name as target unless a mapping says otherwise.
  return r.action === "tool_use" && typeof r.target === "string" ? r.target : "";
}

/** Exact agent, action and target; the tool too, unless the grant names none. */
export function grantMatches(grant: Grant, match: GrantMatch): boolean {
  return (
    grant.agentId === match.agentId &&
    grant.action === match.action &&
    grant.target === match.target &&
    (grant.tool === "" || grant.tool === match.tool)
  );
}

/** In-process grants (used by `MemoryStore`). */
export class MemoryGrants implements GrantStore {
  readonly #grants = new Map<string, Grant>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  createGrant(grant: Grant): void {
    if (this.#grants.size >= this.#max) {
      const oldest = this.#grants.keys().next().value;
      if (oldest !== undefined) this.#grants.delete(oldest);
    }
    this.#grants.set(grant.id, structuredClone(grant));
  }

  useGrant(match: GrantMatch, now: number): Grant | undefined {
    for (const [id, g] of this.#grants) {
      if (g.expiresAt <= now) {
        this.#grants.delete(id);
        continue;
      }
      if (!grantMatches(g, match)) continue;
      const before = structuredClone(g);
      if (g.usesLeft !== undefined) {
        g.usesLeft -= 1;
        if (g.usesLeft <= 0) this.#grants.delete(id);
      }
      return before;
    }
    return undefined;
  }

  listGrants(now: number): Grant[] {
    const out: Grant[] = [];
    for (const [id, g] of this.#grants) {
      if (g.expiresAt <= now) this.#grants.delete(id);
      else out.push(structuredClone(g));
    }
    return out.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  revokeGrant(id: string): Grant | undefined {
    const g = this.#grants.get(id);
    this.#grants.delete(id);
    return g;
  }
}

/**
 * The gate's grant hook: for an escalation about to be raised, spends a
 * matching live grant and returns the ALLOW (`granted`) that replaces it, or
 * `undefined` to escalate as usual. The caller records it as a settled escalation.
 */
export async function consultGrants(
  grants: GrantStore,
  escalation: Decision,
  tool: string | undefined,
  now: number,
): Promise<Decision | undefined> {
  const grant = await grants.useGrant(
    { agentId: escalation.agentId, action: escalation.action, target: escalation.target ?? "", tool: tool ?? "" },
    now,
  );
  if (!grant) return undefined;
  const uses = grant.usesLeft === undefined ? "" : `, ${grant.usesLeft - 1} uses left`;
  return makeDecision({
    id: globalThis.crypto.randomUUID(),
    type: "allow",
    code: "granted",
    agentId: escalation.agentId,
    agentName: escalation.agentName,
    action: escalation.action,
    target: escalation.target,
    reason: `granted by ${grant.approvedBy} (grant ${grant.id}, until ${new Date(grant.expiresAt).toISOString()}${uses}): ${escalation.reason}`,
    timestamp: new Date(now).toISOString(),
    policy: escalation.policy,
    approvedBy: grant.approvedBy,
    callId: escalation.callId,
    escalationId: escalation.escalationId,
    grantId: grant.id,
    mode: escalation.mode,
  });
}

/**
 * The gate's hook on its escalation path (the escalation is already recorded):
 * a live matching grant settles it at once as ALLOW `granted`, so a repeat of
 * the call id gets the same answer. `undefined`: ask a human as usual.
 */
export async function applyGrant(
  grants: GrantStore,
  store: GateStore,
  record: EscalationRecord,
  tool: unknown,
  now: number,
): Promise<Decision | undefined> {
  const granted = await consultGrants(grants, record.decision, typeof tool === "string" ? tool : undefined, now);
  if (!granted) return undefined;
  const result = await store.settleEscalation(record.escalationId, granted, false);
  if (result.ok) return granted;
  return result.record?.settled;
}

/** Options of {@link settleStoredEscalation}. */
export interface SettleStoredOptions {
  /** Epoch ms, default `Date.now()`. */
  now?: number;
}

/** The outcome of settling an escalation from outside its gate. */
export type SettleStoredResult =
  | { ok: true; decision: Decision; record: EscalationRecord }
  | {
      ok: false;
      reason: "unknown" | "settled" | "self_approval" | "invalid";
      record?: EscalationRecord;
      decision?: Decision;
    };

/**
 * Settles a pending escalation straight in a shared store, as
 * `gate.resolveEscalation` does, for processes that hold no gate (an approval
 * server). Exactly one settle wins; an approver named like the requesting
 * agent is refused without changing anything.
 */
export async function settleStoredEscalation(
  store: GateStore,
  escalationId: string,
  resolution: ApprovalResolution | boolean,
  options: SettleStoredOptions = {},
): Promise<SettleStoredResult> {
  const record = await store.getEscalation(escalationId);
  if (!record) return { ok: false, reason: "unknown" };
  if (record.status !== "pending")
    return { ok: false, reason: "settled", record, ...(record.settled ? { decision: record.settled } : {}) };
  const answer = normalizeApproval(resolution);
  if (!answer.valid) return { ok: false, reason: "invalid", record };
  const base = record.decision;
  if (isSelfApproval(answer.approvedBy, { id: base.agentId, name: base.agentName }))
    return { ok: false, reason: "self_approval", record };
  const now = options.now ?? Date.now();
  let approved = answer.approved;
  let code: Decision["code"];
  let reason: string;
  if (now > record.expiresAt) {
    approved = false;
    [code, reason] = ["approval_expired", "the approval came after the escalation expired"];
  } else if (approved)
    [code, reason] = ["approved", `approved${answer.approvedBy ? ` by ${answer.approvedBy}` : ""}: ${base.reason}`];
  else
    [code, reason] = [
      "approval_denied",
      `a human denied it${answer.approvedBy ? ` (${answer.approvedBy})` : ""}${answer.reason ? `: ${answer.reason}` : ""}`,
    ];
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
    escalationId,
    mode: base.mode,
  });
  const result: SettleResult = await store.settleEscalation(escalationId, decision, !approved);
  if (!result.ok) {
    if (result.reason === "unknown") return { ok: false, reason: "unknown" };
    const other = result.record?.settled;
    return {
      ok: false,
      reason: "settled",
      ...(result.record ? { record: result.record } : {}),
      ...(other ? { decision: other } : {}),
    };
  }
  return { ok: true, decision, record: result.record };
}

/** Stores that tell listeners when an escalation is settled (so waiters need not poll). */
export interface EscalationEvents {
  /** Calls `listener(escalationId)` after each settle; resolves a function that stops listening. */
  onEscalationSettled(listener: (escalationId: string) => void): MaybePromise<() => void>;
}

/** True when the store can notify settles. */
export function hasEscalationEvents(value: unknown): value is EscalationEvents {
  return !!value && typeof (value as Partial<EscalationEvents>).onEscalationSettled === "function";
}
