/**
 * A rule compiled for evaluation: its fields read once (own properties only), the one copy of
 * the rule order that `check` and `evaluate` share, and the reasons each outcome gives.
 */
import type { DecisionType } from "../action.js";
import { GlobList } from "./glob-list.js";
import type { ActionRule } from "./rule.js";
import { targetKind, type TargetKind } from "./target.js";

/** Why the static evaluation decided as it did. */
export type PolicyCode =
  | "no_rule"
  | "not_allowed"
  | "invalid_target"
  | "denied_target"
  | "target_required"
  | "target_not_allowed"
  | "require_approval"
  | "escalate_target"
  | "allowed";

/** A rule compiled for fast evaluation. */
export interface CompiledRule {
  readonly rule: Readonly<ActionRule>;
  readonly index: number;
  readonly action: string;
  readonly allowed: boolean;
  readonly kind: TargetKind;
  readonly allowedTargets: GlobList | undefined;
  readonly deniedTargets: GlobList | undefined;
  readonly escalateTargets: GlobList | undefined;
  readonly requireApproval: boolean;
  readonly maxPerMinute: number | undefined;
  readonly escalateAfter: number | undefined;
  readonly denyAfter: number | undefined;
  /** True when the rule has a counter: `max_per_minute`, `deny_after` or `escalate_after`. */
  readonly hasCounter: boolean;
  /** @deprecated Use `hasCounter` (same value). */
  readonly limited: boolean;
  /** `rule "action"`, precomputed for reasons. */
  readonly label: string;
  /** @internal Reasons that depend only on the rule, and the last per-target ones (see `evaluate`). */
  readonly reasons: RuleReasons;
}

/**
 * Reason texts built once per rule, and the most recent evaluation of each outcome: agents repeat
 * the same tool or path, so most checks reuse one frozen evaluation (its reason string included)
 * instead of allocating a new one per check (issue 19: GC was a fifth of `gate.check`).
 */
interface RuleReasons {
  readonly allowsAction: string;
  readonly requiresApproval: string;
  readonly targetRequired: string;
  /** Two per `RuleOutcome` (at `2 * outcome`), then `NOT_ALLOWED`; reused while the target is the same. */
  readonly last: (Evaluation | undefined)[];
}

/** Internal evaluation result used by the gate: frozen, and may be shared by repeated checks. */
export interface Evaluation {
  readonly type: DecisionType;
  readonly code: PolicyCode;
  readonly reason: string;
  readonly target: string | undefined;
  readonly rule: CompiledRule | undefined;
}

export function compileRule(rule: Readonly<ActionRule>, index: number): CompiledRule {
  const list = (p: readonly string[] | undefined) => (p === undefined ? undefined : new GlobList(p));
  // Own fields only: a polluted Object.prototype (`allowed: true`) must never turn a deny into an allow.
  const own = <K extends keyof ActionRule>(k: K): ActionRule[K] | undefined =>
    Object.prototype.hasOwnProperty.call(rule, k) ? rule[k] : undefined;
  const maxPerMinute = own("maxPerMinute");
  const escalateAfter = own("escalateAfter");
  const denyAfter = own("denyAfter");
  const label = `rule ${JSON.stringify(rule.action)}`;
  const hasCounter = maxPerMinute !== undefined || escalateAfter !== undefined || denyAfter !== undefined;
  return Object.freeze({
    rule,
    index,
    action: rule.action,
    allowed: own("allowed") === true,
    kind: targetKind(rule.action),
    allowedTargets: list(own("allowedTargets")),
    deniedTargets: list(own("deniedTargets")),
    escalateTargets: list(own("escalateTargets")),
    requireApproval: own("requireApproval") === true,
    maxPerMinute,
    escalateAfter,
    denyAfter,
    hasCounter,
    limited: hasCounter,
    label,
    reasons: {
      allowsAction: `${label} allows this action`,
      requiresApproval: `${label} requires human approval for every use`,
      targetRequired: `${label} lists allowed_targets, so a target is required`,
      last: Array.from({ length: NOT_ALLOWED + 1 }, () => undefined),
    },
  });
}

const quoted = JSON.stringify;

/**
 * Deny and escalate lists also see a URL without its query: a server routes
 * `/admin?x=1` to `/admin`, which `http://host/admin/**` must catch.
 * (Allow lists match the whole URL only.)
 */
function hits(list: GlobList | undefined, t: string, kind: TargetKind): boolean {
  if (list === undefined) return false;
  if (list.test(t)) return true;
  if (kind !== "url") return false;
  const query = t.indexOf("?");
  return query >= 0 && list.test(t.slice(0, query));
}

export function firstHit(list: GlobList | undefined, t: string, kind: TargetKind): string | undefined {
  if (list === undefined) return undefined;
  const query = kind === "url" ? t.indexOf("?") : -1;
  return list.find(t) ?? (query >= 0 ? list.find(t.slice(0, query)) : undefined);
}

/** What a rule decides about a normalised target, before any reason is written (small ints: `check` indexes by them). */
const DENIED_TARGET = 0;
const TARGET_REQUIRED = 1;
const TARGET_NOT_ALLOWED = 2;
const REQUIRE_APPROVAL = 3;
const ESCALATE_TARGET = 4;
const ALLOWED = 5;
export type RuleOutcome = 0 | 1 | 2 | 3 | 4 | 5;

export const TYPE_OF: readonly DecisionType[] = ["deny", "deny", "deny", "escalate", "escalate", "allow"];
/** The slot of `RuleReasons.last` for a rule that does not allow its action. */
export const NOT_ALLOWED = 12;

export function verdictOf(
  type: DecisionType,
  code: PolicyCode,
  reason: string,
  target: string | undefined,
  rule: CompiledRule | undefined,
): Evaluation {
  return Object.freeze({ type, code, reason, target, rule });
}

/** The evaluation of an allowed rule's outcome for the normalised target `t`. */
export function evaluationOf(r: CompiledRule, outcome: RuleOutcome, t: string | undefined): Evaluation {
  const name = r.label;
  const m = r.reasons;
  switch (outcome) {
    case DENIED_TARGET: {
      const pattern = firstHit(r.deniedTargets, t!, r.kind);
      return verdictOf(
        "deny",
        "denied_target",
        `${name}: target ${quoted(t)} matches denied_targets pattern ${quoted(pattern)}`,
        t,
        r,
      );
    }
    case TARGET_REQUIRED:
      return verdictOf("deny", "target_required", m.targetRequired, t, r);
    case TARGET_NOT_ALLOWED:
      return verdictOf("deny", "target_not_allowed", `${name}: target ${quoted(t)} is not in allowed_targets`, t, r);
    case REQUIRE_APPROVAL:
      return verdictOf("escalate", "require_approval", m.requiresApproval, t, r);
    case ESCALATE_TARGET:
      return verdictOf(
        "escalate",
        "escalate_target",
        `${name}: target ${quoted(t)} matches escalate_targets, so a human must approve`,
        t,
        r,
      );
    case ALLOWED:
      return verdictOf(
        "allow",
        "allowed",
        t === undefined ? m.allowsAction : `${name} allows target ${quoted(t)}`,
        t,
        r,
      );
  }
}

/**
 * The rule order, the one copy `check` and `evaluate` share: denied_targets first, then
 * allowed_targets (an escalate_targets match stands in for it), then require_approval, then
 * escalate_targets. `r` is an allowed rule; `t` the normalised target.
 */
export function ruleOrder(r: CompiledRule, t: string | undefined): RuleOutcome {
  if (t !== undefined && hits(r.deniedTargets, t, r.kind)) return DENIED_TARGET;
  const esc = t !== undefined && hits(r.escalateTargets, t, r.kind);
  if (r.allowedTargets !== undefined && !esc) {
    if (t === undefined) return TARGET_REQUIRED;
    if (!r.allowedTargets.test(t)) return TARGET_NOT_ALLOWED;
  }
  if (r.requireApproval) return REQUIRE_APPROVAL;
  return esc ? ESCALATE_TARGET : ALLOWED;
}
