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
 * <prefix>{esc}:ptr:<id>                       id -> keys above   (string, JSON)
 * <prefix>{esc}:pending                        pending escalations (zset: record key -> expiresAt)
 * ```
 */
export class KeySpace {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  tag(scope: Pick<Scope, "policy" | "agentId">): string {
    return `${this.prefix}{${enc(scope.policy)}|${enc(scope.agentId)}}`;
  }

  used(scope: Scope): string {
    return `${this.tag(scope)}:used:${enc(scope.action)}`;
  }

  window(scope: Scope): string {
    return `${this.tag(scope)}:win:${enc(scope.action)}`;
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

  pending(): string {
    return `${this.prefix}{esc}:pending`;
  }

  /** Where an escalation's record, reservation and call record live. */
  escalation(record: EscalationRecord): EscalationKeys {
    const owner = record.reservation?.scope ?? { policy: record.decision.policy, agentId: record.decision.agentId };
    const res = record.reservation;
    return {
      record: `${this.tag(owner)}:esc:${enc(record.escalationId)}`,
      used: res ? this.used(res.scope) : this.none(owner),
      window: res ? this.window(res.scope) : this.none(owner),
      call: record.callKey !== undefined ? this.call(owner, record.callKey) : this.none(owner),
      member: res?.member ?? "",
      hasReservation: res !== undefined,
      hasCall: record.callKey !== undefined,
    };
  }
}

/** What the pointer of an escalation holds: enough to settle it in one script. */
export interface EscalationKeys {
  record: string;
  used: string;
  window: string;
  call: string;
  member: string;
  hasReservation: boolean;
  hasCall: boolean;
}
