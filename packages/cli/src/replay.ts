import type { ActionRule, DecisionCode, DecisionType, PermissionPolicy } from "@agentgate/core";
import type { AuditLogEntry } from "@agentgate/core/node";

/** Codes the policy decides from its lists alone: replayed exactly. */
const STATIC_CODES: ReadonlySet<string> = new Set([
  "no_rule",
  "not_allowed",
  "invalid_target",
  "denied_target",
  "target_required",
  "target_not_allowed",
  "require_approval",
  "escalate_target",
  "allowed",
]);
/** Codes that came from counters (thresholds, rate limits). */
const LIMIT_CODES: ReadonlySet<string> = new Set(["deny_after", "rate_limit", "escalate_after"]);
/** Codes of an escalation a human, a grant or the approval machinery settled: the policy's verdict was ESCALATE. */
const SETTLED_CODES: ReadonlySet<string> = new Set([
  "approved",
  "granted",
  "approval_denied",
  "approval_timeout",
  "approval_error",
  "approval_expired",
  "self_approval",
]);

/** How a recorded decision was replayed. */
export type ReplayBasis =
  /** Decided by the rule's lists: replayed exactly. */
  | "static"
  /** An escalation settled by a human: compared as ESCALATE, the policy's own verdict. */
  | "escalation"
  /** Came from counters, but the candidate decides it without them (its static verdict is DENY, or the rule has no limits). */
  | "limit";

/** Where a replayed decision sits in the audit log, and what it was about. */
export interface ReplayedRecord {
  line: number;
  seq: number;
  decisionId: string;
  timestamp: string;
  agentName: string;
  action: string;
  target?: string;
}

/** One past decision that would come out differently. */
export interface ReplayChange extends ReplayedRecord {
  /** What the recorded policy said (ESCALATE for escalations a human settled). */
  from: DecisionType;
  /** What the candidate says. */
  to: DecisionType;
  recordedCode: DecisionCode;
  code: DecisionCode;
  /** The candidate's reason. */
  reason: string;
  ruleIndex?: number;
  basis: ReplayBasis;
}

/** A recorded decision that came from counters, which a replay cannot honestly recount. */
export interface LimitDrivenDecision extends ReplayedRecord {
  recorded: DecisionType;
  recordedCode: DecisionCode;
  /** The candidate's verdict before counters. */
  staticVerdict: DecisionType;
  /** The candidate rule's counters, in YAML names. */
  limits: { max_per_minute?: number; escalate_after?: number; deny_after?: number };
}

/** The result of replaying an audit log against a candidate policy. */
export interface ReplayResult {
  /** False when any past decision would become ALLOW that was not. */
  ok: boolean;
  policy: string;
  /** Decision records in the log. */
  total: number;
  /** Decisions compared (static, escalations, and limit-driven ones the candidate decides without counters). */
  replayed: number;
  unchanged: number;
  changed: number;
  /** Changes to ALLOW from anything else. */
  newlyAllowed: number;
  /** Counts per transition, e.g. `{ "deny->allow": 2 }`. */
  transitions: Record<string, number>;
  changes: ReplayChange[];
  /** Limit-driven decisions whose outcome under the candidate depends on counters: reported, not replayed. */
  limitDriven: LimitDrivenDecision[];
  /** Statically ALLOWed decisions whose candidate rule adds counters: some might now be limited. */
  nowLimited: number;
  /** Settlements of escalations whose ESCALATE record is also in the log (counted once, as the escalation). */
  settlements: number;
  /** Decisions from the gate's own failures (store down, call id reuse): not policy outcomes. */
  notReplayable: { line: number; code: DecisionCode; action: string }[];
  /** Names of the policies that made the recorded decisions. */
  recordedPolicies: string[];
}

function limitsOf(rule: Readonly<ActionRule> | undefined): LimitDrivenDecision["limits"] {
  const out: LimitDrivenDecision["limits"] = {};
  if (rule?.maxPerMinute !== undefined) out.max_per_minute = rule.maxPerMinute;
  if (rule?.escalateAfter !== undefined) out.escalate_after = rule.escalateAfter;
  if (rule?.denyAfter !== undefined) out.deny_after = rule.denyAfter;
  return out;
}

/**
 * Replays recorded decisions against a candidate policy: the blast radius of
 * a policy change. Static decisions are re-evaluated exactly; escalations
 * settled by a human compare as ESCALATE; decisions that came from counters
 * (rate limits, thresholds) are reported separately unless the candidate
 * decides them without counters, because replaying counters out of their
 * original timing would be a guess.
 */
export function replayDecisions(policy: PermissionPolicy, entries: readonly AuditLogEntry[]): ReplayResult {
  const result: ReplayResult = {
    ok: true,
    policy: policy.name,
    total: entries.length,
    replayed: 0,
    unchanged: 0,
    changed: 0,
    newlyAllowed: 0,
    transitions: {},
    changes: [],
    limitDriven: [],
    nowLimited: 0,
    settlements: 0,
    notReplayable: [],
    recordedPolicies: [...new Set(entries.map((e) => e.decision.policy))],
  };
  const escalations = new Set(
    entries
      .filter((e) => e.decision.type === "escalate" && e.decision.escalationId)
      .map((e) => e.decision.escalationId),
  );

  for (const entry of entries) {
    const d = entry.decision;
    let from: DecisionType;
    let basis: ReplayBasis;
    if (STATIC_CODES.has(d.code)) {
      from = d.type;
      basis = "static";
    } else if (SETTLED_CODES.has(d.code)) {
      if (d.escalationId !== undefined && escalations.has(d.escalationId)) {
        result.settlements++;
        continue;
      }
      from = "escalate";
      basis = "escalation";
    } else if (LIMIT_CODES.has(d.code)) {
      from = d.type;
      basis = "limit";
    } else {
      result.notReplayable.push({ line: entry.line, code: d.code, action: d.action });
      continue;
    }

    // An invalid target is recorded without its raw text; it is invalid for the action's kind under any policy, so DENY.
    const e =
      d.code === "invalid_target"
        ? {
            decision: "deny" as const,
            code: "invalid_target" as const,
            reason:
              "the recorded target was invalid for this action (not normalisable), so it is denied under any policy",
            ruleIndex: undefined,
            rule: policy.getRule(d.action),
          }
        : policy.explain(d.action, d.target);
    const rule = e.rule;
    const limited =
      rule !== undefined &&
      (rule.maxPerMinute !== undefined || rule.escalateAfter !== undefined || rule.denyAfter !== undefined);

    if (basis === "limit" && e.decision !== "deny" && limited) {
      const ld: LimitDrivenDecision = {
        line: entry.line,
        seq: entry.seq,
        decisionId: d.id,
        timestamp: d.timestamp,
        agentName: d.agentName,
        action: d.action,
        recorded: d.type,
        recordedCode: d.code,
        staticVerdict: e.decision,
        limits: limitsOf(rule),
      };
      if (d.target !== undefined) ld.target = d.target;
      result.limitDriven.push(ld);
      continue;
    }
    if (basis !== "limit" && e.decision === "allow" && limited) result.nowLimited++;

    result.replayed++;
    if (e.decision === from) {
      result.unchanged++;
      continue;
    }
    const change: ReplayChange = {
      line: entry.line,
      seq: entry.seq,
      decisionId: d.id,
      timestamp: d.timestamp,
      agentName: d.agentName,
      action: d.action,
      from,
      to: e.decision,
      recordedCode: d.code,
      code: e.code,
      reason: e.reason,
      basis,
    };
    if (d.target !== undefined) change.target = d.target;
    if (e.ruleIndex !== undefined) change.ruleIndex = e.ruleIndex;
    result.changes.push(change);
    result.changed++;
    const key = `${from}->${e.decision}`;
    result.transitions[key] = (result.transitions[key] ?? 0) + 1;
    if (e.decision === "allow") result.newlyAllowed++;
  }
  result.ok = result.newlyAllowed === 0;
  return result;
}
