import type { Document } from "yaml";
import type { ActionName, DecisionType } from "../action.js";
import { PolicyValidationError } from "../errors/policy-validation-error.js";
import {
  compileRule,
  evaluationOf,
  firstHit,
  NOT_ALLOWED,
  ruleOrder,
  TYPE_OF,
  verdictOf,
  type CompiledRule,
  type Evaluation,
  type PolicyCode,
  type RuleOutcome,
} from "./compiled-rule.js";
import { nodeFs } from "./node-fs.js";
import type { ActionRule, PolicyConfig } from "./rule.js";
import { MAX_TARGET_LENGTH, normalizeTarget } from "./target.js";
import { validatePolicy } from "./validate.js";
import { configToDocument, parsePolicyYaml } from "./yaml.js";

export type { CompiledRule, Evaluation, PolicyCode } from "./compiled-rule.js";

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

function deepFreezeRule(rule: ActionRule): Readonly<ActionRule> {
  const copy: ActionRule = { ...rule };
  for (const k of ["allowedTargets", "deniedTargets", "escalateTargets"] as const) {
    if (copy[k]) copy[k] = Object.freeze([...copy[k]]);
  }
  return Object.freeze(copy);
}

const quoted = JSON.stringify;

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
    // Two per outcome: an agent often alternates two targets (two files, two tools). `t` is at most
    // MAX_TARGET_LENGTH: `normalizeTarget` refuses longer targets, as written and once normalised.
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
