import type { ActionName } from "../action.js";

/** One rule per action. Everything not granted here is denied. */
export interface ActionRule {
  /** The action this rule governs (`tool_use`, `file_read`, or a custom string). */
  action: ActionName;
  /** Default `false`: a rule that does not say `allowed: true` denies. */
  allowed?: boolean;
  /** Glob patterns. When set, a target is required and must match one (or an `escalateTargets` pattern). */
  allowedTargets?: readonly string[];
  /** Glob patterns. A match is DENY, whatever else the rule says. */
  deniedTargets?: readonly string[];
  /** Glob patterns. A match is allowed, but only after a human approves. */
  escalateTargets?: readonly string[];
  /** Every use escalates to a human. */
  requireApproval?: boolean;
  /** Sliding 60 s window. Over it: DENY with `retryAfterMs`. */
  maxPerMinute?: number;
  /** After this many allowed uses, further uses escalate. */
  escalateAfter?: number;
  /** After this many allowed uses, further uses are denied. */
  denyAfter?: number;
  description?: string;
}

/** What `new PermissionPolicy()` takes. */
export interface PolicyConfig {
  name: string;
  description?: string;
  rules: readonly ActionRule[];
}

/** Rule fields as [camelCase, snake_case, kind]. Order is the canonical YAML key order. */
export const RULE_FIELDS = [
  ["action", "action", "action"],
  ["description", "description", "string"],
  ["allowed", "allowed", "boolean"],
  ["allowedTargets", "allowed_targets", "globs"],
  ["deniedTargets", "denied_targets", "globs"],
  ["escalateTargets", "escalate_targets", "globs"],
  ["requireApproval", "require_approval", "boolean"],
  ["maxPerMinute", "max_per_minute", "count"],
  ["escalateAfter", "escalate_after", "count"],
  ["denyAfter", "deny_after", "count"],
] as const satisfies readonly (readonly [keyof ActionRule, string, string])[];

export type FieldKind = (typeof RULE_FIELDS)[number][2];
