import type { Document } from "yaml";
import type { ActionName, DecisionType } from "../action.js";
import { PolicyValidationError } from "../errors/policy-validation-error.js";
import { GlobList } from "./glob-list.js";
import { nodeFs } from "./node-fs.js";
import type { ActionRule, PolicyConfig } from "./rule.js";
import { MAX_TARGET_LENGTH, normalizeTarget, targetKind, type TargetKind } from "./target.js";
import { validatePolicy } from "./validate.js";
import { configToDocument, parsePolicyYaml } from "./yaml.js";

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
  /** True when the rule has a counter (limits or thresholds). */
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

/** The static verdict for one request, with the reason in plain words. */
export interface PolicyExplanation {
  decision: DecisionType;
  code: PolicyCode;
  reason: string;
  /** The target after normalisation, as matched. */
  target?: string;
  /** The rule that applied, if any. */
  rule?: Readonly<ActionRule>;
  ruleIndex?: number;
  /** The glob pattern that fired, for list matches. */
  pattern?: string;
}

/** Internal evaluation result used by the gate: frozen, and may be shared by repeated checks. */
export interface Evaluation {
  readonly type: DecisionType;
  readonly code: PolicyCode;
  readonly reason: string;
  readonly target: string | undefined;
  readonly rule: CompiledRule | undefined;
}

function deepFreezeRule(rule: ActionRule): Readonly<ActionRule> {
  const copy: ActionRule = { ...rule };
  for (const k of ["allowedTargets", "deniedTargets", "escalateTargets"] as const) {
    if (copy[k]) copy[k] = Object.freeze([...copy[k]]);
  }
  return Object.freeze(copy);
}

function compileRule(rule: Readonly<ActionRule>, index: number): CompiledRule {
  const list = (p: readonly string[] | undefined) => (p === undefined ? undefined : new GlobList(p));
  // Own fields only: a polluted Object.prototype (`allowed: true`) must never turn a deny into an allow.
  const own = <K extends keyof ActionRule>(k: K): ActionRule[K] | undefined =>
    Object.prototype.hasOwnProperty.call(rule, k) ? rule[k] : undefined;
  const maxPerMinute = own("maxPerMinute");
  const escalateAfter = own("escalateAfter");
  const denyAfter = own("denyAfter");
  const label = `rule ${JSON.stringify(rule.action)}`;
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
    limited: maxPerMinute !== undefined || escalateAfter !== undefined || denyAfter !== undefined,
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

function firstHit(list: GlobList | undefined, t: string, kind: TargetKind): string | undefined {
  if (list === undefined) return undefined;
  const query = kind === "url" ? t.indexOf("?") : -1;
  return list.find(t) ?? (query >= 0 ? list.find(t.slice(0, query)) : undefined);
}

/**
 * A deny-by-default policy: one rule per action, validated and compiled at
 * construction. Immutable. `check` is the pure, static verdict; counters and
 * approvals live in `GateKeeper`.
 */
export class PermissionPolicy {
  readonly name: string;
  readonly description: string | undefined;
  readonly rules: readonly Readonly<ActionRule>[];
  readonly #compiled: Map<string, CompiledRule>;
  #document: Document | undefined;
  /** The last no-rule evaluation and its action (see `RuleReasons.last`). */
  #noRule: { action: string; evaluation: Evaluation } | undefined;

  /** @throws PolicyValidationError listing every problem. */
  constructor(config: PolicyConfig) {
    const { issues, config: valid } = validatePolicy(config, "camel");
    if (!valid) throw new PolicyValidationError(issues);
    this.name = valid.name;
    this.description = valid.description;
    this.rules = Object.freeze(valid.rules.map(deepFreezeRule));
    this.#compiled = new Map(this.rules.map((r, i) => [r.action, compileRule(r, i)]));
  }

  /** Parses YAML text (snake_case keys). @throws PolicyValidationError with YAML lines. */
  static parse(yamlText: string, source?: string): PermissionPolicy {
    const { config, issues, document } = parsePolicyYaml(yamlText);
    if (!config) throw new PolicyValidationError(issues, source);
    const policy = new PermissionPolicy(config);
    policy.#document = document;
    return policy;
  }

  /** Reads and parses a YAML file. @throws PolicyValidationError naming the file and lines. */
  static fromYaml(path: string | URL): PermissionPolicy {
    const fs = nodeFs("PermissionPolicy.fromYaml");
    const display = typeof path === "string" ? path : path.pathname;
    let text: string;
    try {
      text = fs.readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
      throw new PolicyValidationError([{ path: "", message: `cannot read policy file ${display}: ${why}` }], display);
    }
    return PermissionPolicy.parse(text, display);
  }

  /** The rule for an action, or `undefined` (which means: denied). */
  getRule(action: string): Readonly<ActionRule> | undefined {
    return this.#compiled.get(action)?.rule;
  }

  /**
   * True when a check of `action` can ever come out ESCALATE (an allowed rule with
   * `require_approval`, `escalate_targets` or `escalate_after`): adapters use it to
   * prepare an approval channel only where one can be needed.
   */
  mayEscalate(action: string): boolean {
    const rule = typeof action === "string" ? this.#compiled.get(action)?.rule : undefined;
    if (!rule || rule.allowed !== true) return false;
    return rule.requireApproval === true || (rule.escalateTargets?.length ?? 0) > 0 || rule.escalateAfter !== undefined;
  }

  /** @internal The compiled rule, for the gate. */
  compiledRule(action: string): CompiledRule | undefined {
    return this.#compiled.get(action);
  }

  /**
   * The static verdict, without counters: `"allow" | "deny" | "escalate"`.
   * @throws TypeError for an empty action or a non-string target.
   */
  check(action: ActionName, target?: string): DecisionType {
    const r = this.#compiled.get(action);
    if (r === undefined || !r.allowed) {
      if (typeof action !== "string" || action === "") throw new TypeError("action must be a non-empty string");
      if (target !== undefined && typeof target !== "string") throw new TypeError("target must be a string");
      return "deny";
    }
    let t: string | undefined;
    if (target !== undefined) {
      if (typeof target !== "string") throw new TypeError("target must be a string");
      if (r.kind === "plain" && target.length <= 8192) t = target;
      else {
        const n = normalizeTarget(r.kind, target);
        if (!n.ok) return "deny";
        t = n.target;
      }
    }
    return TYPE_OF[ruleOrder(r, t)]!;
  }

  /** The static verdict with its reason, rule and the pattern that fired. */
  explain(action: ActionName, target?: string): PolicyExplanation {
    const e = this.evaluate(action, target);
    const out: PolicyExplanation = { decision: e.type, code: e.code, reason: e.reason };
    if (e.target !== undefined) out.target = e.target;
    if (e.rule) {
      out.rule = e.rule.rule;
      out.ruleIndex = e.rule.index;
      const list =
        e.code === "denied_target"
          ? e.rule.deniedTargets
          : e.code === "escalate_target"
            ? e.rule.escalateTargets
            : undefined;
      const pattern =
        firstHit(list, e.target ?? "", e.rule.kind) ??
        (e.code === "allowed" && e.target !== undefined ? e.rule.allowedTargets?.find(e.target) : undefined);
      if (pattern !== undefined) out.pattern = pattern;
    }
    return out;
  }

  /** @internal Static evaluation with a reason; used by GateKeeper and `explain`. */
  evaluate(action: string, target: string | undefined): Evaluation {
    const r = this.#compiled.get(action);
    if (r === undefined) {
      const last = this.#noRule;
      if (last !== undefined && last.action === action && last.evaluation.target === target) return last.evaluation;
      const reason = `no rule for action ${quoted(action)}: denied by default`;
      const evaluation = verdictOf("deny", "no_rule", reason, target, undefined);
      // Never keep an oversized (unnormalised, model-written) target alive in the policy.
      if (action.length <= MAX_TARGET_LENGTH && (target === undefined || target.length <= MAX_TARGET_LENGTH))
        this.#noRule = { action, evaluation };
      return evaluation;
    }
    const last = r.reasons.last;
    if (!r.allowed) {
      const seen = last[NOT_ALLOWED];
      if (seen !== undefined && seen.target === target) return seen;
      const why = r.rule.description ? ` (${r.rule.description})` : "";
      const evaluation = verdictOf("deny", "not_allowed", `${r.label} does not allow this action${why}`, target, r);
      if (target === undefined || target.length <= MAX_TARGET_LENGTH) last[NOT_ALLOWED] = evaluation;
      return evaluation;
    }
    let t = target;
    if (t !== undefined && !(r.kind === "plain" && t.length <= MAX_TARGET_LENGTH)) {
      const n = normalizeTarget(r.kind, t);
      if (!n.ok) return verdictOf("deny", "invalid_target", `${r.label}: ${n.problem}`, undefined, r);
      t = n.target;
    }
    // The order itself lives in `ruleOrder`, shared with `check`; here each outcome gets its reason.
    // Two per outcome: an agent often alternates two targets (two files, two tools).
    const slot = 2 * ruleOrder(r, t);
    const seen = last[slot];
    if (seen !== undefined && seen.target === t) return seen;
    const older = last[slot + 1];
    if (older !== undefined && older.target === t) return older;
    const evaluation = evaluationOf(r, (slot / 2) as RuleOutcome, t);
    last[slot + 1] = seen;
    return (last[slot] = evaluation);
  }

  /** The policy as plain camelCase data (what the constructor takes). */
  toJSON(): PolicyConfig {
    const out: PolicyConfig = { name: this.name, rules: this.rules.map((r) => ({ ...r })) };
    if (this.description !== undefined) out.description = this.description;
    return out;
  }

  /** YAML text. A policy loaded from YAML keeps its comments and key order. */
  stringify(): string {
    this.#document ??= configToDocument(this.toJSON());
    return this.#document.toString();
  }

  /** Returns the YAML text and, when `path` is given, writes it there. */
  toYaml(path?: string | URL): string {
    const text = this.stringify();
    if (path !== undefined) nodeFs("PermissionPolicy.toYaml").writeFileSync(path, text, "utf8");
    return text;
  }
}

/** What a rule decides about a normalised target, before any reason is written (small ints: `check` indexes by them). */
const DENIED_TARGET = 0;
const TARGET_REQUIRED = 1;
const TARGET_NOT_ALLOWED = 2;
const REQUIRE_APPROVAL = 3;
const ESCALATE_TARGET = 4;
const ALLOWED = 5;
type RuleOutcome = 0 | 1 | 2 | 3 | 4 | 5;

const TYPE_OF: readonly DecisionType[] = ["deny", "deny", "deny", "escalate", "escalate", "allow"];
/** The slot of `RuleReasons.last` for a rule that does not allow its action. */
const NOT_ALLOWED = 12;

function verdictOf(
  type: DecisionType,
  code: PolicyCode,
  reason: string,
  target: string | undefined,
  rule: CompiledRule | undefined,
): Evaluation {
  return Object.freeze({ type, code, reason, target, rule });
}

/** The evaluation of an allowed rule's outcome for the normalised target `t`. */
function evaluationOf(r: CompiledRule, outcome: RuleOutcome, t: string | undefined): Evaluation {
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
function ruleOrder(r: CompiledRule, t: string | undefined): RuleOutcome {
  if (t !== undefined && hits(r.deniedTargets, t, r.kind)) return DENIED_TARGET;
  const esc = t !== undefined && hits(r.escalateTargets, t, r.kind);
  if (r.allowedTargets !== undefined && !esc) {
    if (t === undefined) return TARGET_REQUIRED;
    if (!r.allowedTargets.test(t)) return TARGET_NOT_ALLOWED;
  }
  if (r.requireApproval) return REQUIRE_APPROVAL;
  return esc ? ESCALATE_TARGET : ALLOWED;
}
