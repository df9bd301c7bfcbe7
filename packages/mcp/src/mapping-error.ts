import { AgentGateError, type PolicyIssue } from "@agentgate/core";

const MARKER = Symbol.for("agentgate.mcp.mapping-error");

/** A tool mapping (file or object) that cannot be used: every problem, with its line when it came from YAML. */
export class MappingValidationError extends AgentGateError {
  readonly [MARKER] = true;
  readonly issues: readonly PolicyIssue[];
  readonly source: string | undefined;

  constructor(issues: readonly PolicyIssue[], source?: string) {
    const n = issues.length;
    super(
      "AGENTGATE_POLICY_INVALID",
      `invalid tool mapping${source ? ` ${source}` : ""} (${n} problem${n === 1 ? "" : "s"}): ${issues.map((i) => `${i.line !== undefined ? `line ${i.line}: ` : ""}${i.path ? `${i.path}: ` : ""}${i.message}`).join("; ")}`,
    );
    this.name = "MappingValidationError";
    this.issues = issues;
    this.source = source;
  }

  static override isInstance(error: unknown): error is MappingValidationError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}
