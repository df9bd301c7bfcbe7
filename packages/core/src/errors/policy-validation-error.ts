import { AgentGateError } from "./agent-gate-error.js";

const marker = "agentgate.error.PolicyValidationError";
const symbol = Symbol.for(marker);

/** One problem found in a policy. `line` is 1-based, present for YAML input. */
export interface PolicyIssue {
  /** Where, e.g. `rules[2].max_per_minute`. */
  path: string;
  message: string;
  line?: number;
}

/** A policy failed validation. Lists every problem; nothing is half-loaded. */
export class PolicyValidationError extends AgentGateError {
  private readonly [symbol] = true;
  readonly issues: readonly PolicyIssue[];
  /** The file the policy came from, when loaded with `fromYaml`. */
  readonly source: string | undefined;

  constructor(issues: readonly PolicyIssue[], source?: string) {
    const where = source ? ` in ${source}` : "";
    const lines = issues.map(
      (i) => `  - ${i.line !== undefined ? `line ${i.line}: ` : ""}${i.path || "(root)"}: ${i.message}`,
    );
    super(
      "AGENTGATE_POLICY_INVALID",
      `Invalid policy${where} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "PolicyValidationError";
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
    this.source = source;
  }

  static override isInstance(error: unknown): error is PolicyValidationError {
    return AgentGateError.hasMarker(error, marker);
  }
}
