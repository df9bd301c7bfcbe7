import type { ConsumeRequest, EscalationRecord } from "@agentgate/core";

type Scope = ConsumeRequest["scope"];

const enc = encodeURIComponent;

/**
 * The key layout. Everything of one (policy, agent) lives under one hash tag,
 * so a check touches a single Redis Cluster slot; escalation pointers and the
 * pending list share one more slot. `encodeURIComponent` escapes `{` and `}`,
 * so names can never break out of a hash tag.
 *
 * ```
 * <prefix>{<policy>|<agentId>}:used:<action>   usage total        (string)
 * <prefix>{<policy>|<agentId>}:win:<action>    sliding window     (zset: decisionId -> now)
 * <prefix>{<policy>|<agentId>}:call:<callKey>  per-call record    (hash)
 * <prefix>{<policy>|<agentId>}:esc:<id>        escalation record  (hash)
 * <prefix>{<policy>|<agentId>}:pending         this agent's pending escalations
 *                                              (zset, all scores 0: "<expiresAt, 15 digits>|<id>", so
 *                                              ZRANGEBYLEX pages in expiry order and prunes expired ones)
 * <prefix>{esc}:ptr:<id>                       id -> keys above   (string, JSON)
 * <prefix>{esc}:pending                        every agent's pending escalations (zset: record key -> expiresAt)
 * <prefix>{epoch}                              store epoch, no TTL (one per primary on a Cluster)
 * ```
 */
export class KeySpace {
  readonly prefix: string;
  // The last scope's keys: a gate checks as one (policy, agent), mostly one action in a row,
  // so a check reuses them instead of encoding three names and concatenating per check.
  #policy = "";
  #agentId = "";
  #tag = "";
  #action: string | undefined;
  #used = "";
  #window = "";

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  tag(scope: Pick<Scope, "policy" | "agentId">): string {
    if (scope.policy === this.#policy && scope.agentId === this.#agentId && this.#tag !== "") return this.#tag;
    const tag = `${this.prefix}{${enc(scope.policy)}|${enc(scope.agentId)}}`;
    this.#policy = scope.policy;
    this.#agentId = scope.agentId;
    this.#tag = tag;
    this.#action = undefined;
    return tag;
  }

  used(scope: Scope): string {
    this.#scope(scope);
    return this.#used;
  }

  window(scope: Scope): string {
    this.#scope(scope);
    return this.#window;
  }

  #scope(scope: Scope): void {
    const tag = this.tag(scope);
    if (scope.action === this.#action) return;
    const action = enc(scope.action);
    this.#used = `${tag}:used:${action}`;
    this.#window = `${tag}:win:${action}`;
    this.#action = scope.action;
  }

  /** `callKey` is the gate's own flat key for the call. */
  call(scope: Pick<Scope, "policy" | "agentId">, callKey: string): string {
    return `${this.tag(scope)}:call:${callKey}`;
  }

  /** A key in the scope's slot that is never written: stands in for absent KEYS. */
  none(scope: Pick<Scope, "policy" | "agentId">): string {
    return `${this.tag(scope)}:none`;
  }

  pointer(escalationId: string): string {
    return `${this.prefix}{esc}:ptr:${enc(escalationId)}`;
  }

  /** Every agent's pending escalations (for a store-wide listing). */
  pending(): string {
    return `${this.prefix}{esc}:pending`;
  }

  /** One (policy, agent)'s pending escalations. */
  agentPending(scope: Pick<Scope, "policy" | "agentId">): string {
    return `${this.tag(scope)}:pending`;
  }

  /** Where a scope's escalation records start: append the encoded id. */
  recordPrefix(scope: Pick<Scope, "policy" | "agentId">): string {
    return `${this.tag(scope)}:esc:`;
  }

  /** Where an escalation's record, reservation and call record live. */
  escalation(record: EscalationRecord): EscalationKeys {
    const owner = record.reservation?.scope ?? { policy: record.decision.policy, agentId: record.decision.agentId };
    const res = record.reservation;
    return {
      record: `${this.tag(owner)}:esc:${enc(record.escalationId)}`,
      index: this.agentPending(owner),
      indexMember: indexMember(record.expiresAt, record.escalationId),
      used: res ? this.used(res.scope) : this.none(owner),
      window: res ? this.window(res.scope) : this.none(owner),
      call: record.callKey !== undefined ? this.call(owner, record.callKey) : this.none(owner),
      member: res?.member ?? "",
      hasReservation: res !== undefined,
      hasCall: record.callKey !== undefined,
    };
  }
}

/** Lex-ordered member of an agent's pending index: expiry first, then the id. */
export function indexMember(expiresAt: number, escalationId: string): string {
  return `${expiryDigits(expiresAt)}|${enc(escalationId)}`;
}

/** Real-time slack on top of the gate-clock lifetimes of call records and escalations. */
const RETENTION_SLACK_MS = 10 * 60_000;

/** Redis lifetime (PX) of a record the gate keeps `ms` by its own clock. */
export function retentionPx(ms: number): number {
  return Math.max(1, Math.ceil(ms + RETENTION_SLACK_MS));
}

/** `ms` as 15 digits (zero-padded, clamped), so string order is numeric order. */
export function expiryDigits(ms: number): string {
  const n = Math.min(Math.max(0, Math.floor(ms)), 999_999_999_999_999);
  return String(n).padStart(15, "0");
}

/** What the pointer of an escalation holds: enough to settle it in one script. */
export interface EscalationKeys {
  record: string;
  /** The agent's pending index and this escalation's member in it (absent in pointers from before 0.2). */
  index?: string;
  indexMember?: string;
  used: string;
  window: string;
  call: string;
  member: string;
  hasReservation: boolean;
  hasCall: boolean;
}
