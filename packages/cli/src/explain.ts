import {
  AgentIdentity,
  GateKeeper,
  MemoryStore,
  type ActionRule,
  type DecisionCode,
  type DecisionType,
  type PermissionPolicy,
} from "@agentgate/core";

/** The rule field (YAML name) that decided, for each decision code. */
const FIRED: Partial<Record<DecisionCode, string>> = {
  not_allowed: "allowed",
  invalid_target: "target",
  denied_target: "denied_targets",
  target_required: "allowed_targets",
  target_not_allowed: "allowed_targets",
  require_approval: "require_approval",
  escalate_target: "escalate_targets",
  deny_after: "deny_after",
  rate_limit: "max_per_minute",
  escalate_after: "escalate_after",
};

/** Decision codes that come from counters, not from the rule's static lists. */
export const LIMIT_CODES: ReadonlySet<string> = new Set(["deny_after", "rate_limit", "escalate_after"]);

/** The clock used for simulated checks: every simulated use happens at this instant. */
export const SIMULATED_NOW = Date.UTC(2025, 0, 1);

/** Most simulated prior uses per check. */
export const MAX_USES = 100_000;

/** A decision with everything that explains it. JSON-serialisable. */
export interface DecisionExplanation {
  action: string;
  /** The target as given. */
  input?: string;
  /** The target after normalisation, as matched. */
  target?: string;
  decision: DecisionType;
  code: DecisionCode;
  reason: string;
  /** Index of the rule that applied in `rules`. */
  ruleIndex?: number;
  rule?: Readonly<ActionRule>;
  /** The rule field that decided (`denied_targets`, `max_per_minute`, ...). */
  fired?: string;
  /** The glob pattern that matched, for list decisions. */
  pattern?: string;
  /** Allowed uses requested before this check. */
  uses: number;
  /**
   * Prior uses that were actually allowed, when the rule has counters (a limit
   * may stop the run-up early). Absent when counters cannot change the outcome.
   */
  primed?: number;
  retryAfterMs?: number;
}

/** Options for {@link explainDecision}. */
export interface ExplainOptions {
  /** The call's arguments (bound into the call, shown to approvers). */
  args?: unknown;
  /** How many allowed uses came before, all within the last minute. Default 0. */
  uses?: number;
}

let identity: Promise<AgentIdentity> | undefined;
function simulatedAgent(): Promise<AgentIdentity> {
  identity ??= AgentIdentity.create("agentgate-cli");
  return identity;
}

/**
 * Decides one action the way a running gate would, and says why: which rule,
 * which list or limit fired, which pattern matched. With `uses`, that many
 * allowed uses first run through a real `GateKeeper` (fresh `MemoryStore`,
 * a fixed clock, escalations approved), so thresholds and rate limits apply.
 *
 * @throws TypeError for an empty action (as the gate does).
 */
export async function explainDecision(
  policy: PermissionPolicy,
  action: string,
  target?: string,
  options: ExplainOptions = {},
): Promise<DecisionExplanation> {
  const uses = options.uses ?? 0;
  if (!Number.isSafeInteger(uses) || uses < 0) throw new TypeError("uses must be a whole number >= 0");
  if (uses > MAX_USES) throw new RangeError(`uses must be at most ${MAX_USES}`);
  const statics = policy.explain(action, target);
  const agent = await simulatedAgent();
  const store = new MemoryStore();
  const clock = () => SIMULATED_NOW;
  const check = {
    ...(target !== undefined ? { target } : {}),
    ...(options.args !== undefined ? { args: options.args } : {}),
  };

  let primed: number | undefined;
  // Counters only matter for a rule with limits, and only when the request gets past the static lists.
  const limited =
    statics.rule !== undefined &&
    (statics.rule.maxPerMinute !== undefined ||
      statics.rule.denyAfter !== undefined ||
      statics.rule.escalateAfter !== undefined);
  if (uses > 0 && limited && statics.decision !== "deny") {
    const approver = new GateKeeper({
      identity: agent,
      policy,
      store,
      clock,
      auditLimit: 1,
      approvalHandler: () => ({ approved: true, approvedBy: "agentgate-simulated-approver" }),
    });
    primed = 0;
    for (let i = 0; i < uses; i++) {
      const d = await approver.check(action, check);
      if (d.type !== "allow") break; // a limit stopped the run-up: further uses would be refused too
      primed++;
    }
  }
  const gate = new GateKeeper({ identity: agent, policy, store, clock, auditLimit: 1 });
  const d = await gate.check(action, check);

  const out: DecisionExplanation = {
    action,
    ...(target !== undefined ? { input: target } : {}),
    ...(d.target !== undefined ? { target: d.target } : {}),
    decision: d.type,
    code: d.code,
    reason: d.reason,
    uses,
  };
  if (primed !== undefined) out.primed = primed;
  if (statics.ruleIndex !== undefined && statics.rule) {
    out.ruleIndex = statics.ruleIndex;
    out.rule = statics.rule;
  }
  const fired =
    FIRED[d.code] ??
    (d.code === "allowed" ? (statics.pattern !== undefined ? "allowed_targets" : "allowed") : undefined);
  if (fired !== undefined) out.fired = fired;
  if (statics.pattern !== undefined && d.code === statics.code) out.pattern = statics.pattern;
  if (d.retryAfterMs !== undefined) out.retryAfterMs = d.retryAfterMs;
  return out;
}

/** The value of the rule field that fired, for display (`max_per_minute: 20`). */
export function firedValue(e: DecisionExplanation): string | undefined {
  const r = e.rule;
  if (!r || e.fired === undefined) return undefined;
  switch (e.fired) {
    case "max_per_minute":
      return String(r.maxPerMinute);
    case "deny_after":
      return String(r.denyAfter);
    case "escalate_after":
      return String(r.escalateAfter);
    case "allowed":
      return String(r.allowed === true);
    case "require_approval":
      return "true";
    default:
      return e.pattern !== undefined ? JSON.stringify(e.pattern) : undefined;
  }
}
