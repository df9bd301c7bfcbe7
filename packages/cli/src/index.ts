/**
 * `@agentgate/cli`: the `agentgate` command and the pure pieces behind it,
 * so other programs (the demo) can print the same explanations and tables
 * in-process.
 */
export { run, buildProgram, processContext } from "./cli.js";
export type { CommandContext } from "./commands/context.js";
export { CliError, ExitCode } from "./errors.js";
export {
  explainDecision,
  LIMIT_CODES,
  SIMULATED_NOW,
  type DecisionExplanation,
  type ExplainOptions,
} from "./explain.js";
export { formatExplanation, type FormatOptions } from "./format/explanation.js";
export { createStyle, shouldColor } from "./format/style.js";
export { renderTable, type TableOptions } from "./format/table.js";
export { STARTER_POLICY } from "./starter-policy.js";
export { initPolicy, type InitResult } from "./commands/init.js";
export { validatePolicyFile, formatValidateResult, type ValidateResult } from "./commands/validate.js";
export { parseCases, type PolicyTestCase } from "./cases.js";
export {
  runPolicyTests,
  formatTestRun,
  type CaseResult,
  type RuleCoverage,
  type TestRunResult,
} from "./commands/test.js";
export { keygen, formatKeygenResult, type KeygenResult } from "./commands/keygen.js";
export { renderAuditTable, shortTime, type AuditTableOptions } from "./format/audit-table.js";
export { formatVerifyResult } from "./format/verify.js";
export {
  verifyAuditFile,
  showAudit,
  readPublicKeyFile,
  type AuditShowOptions,
  type AuditShowResult,
} from "./commands/audit.js";
export { filterAuditEntries, parseSince, type AuditFilter } from "./audit-filter.js";
export {
  replayDecisions,
  type ReplayBasis,
  type ReplayChange,
  type LimitDrivenDecision,
  type ReplayedRecord,
  type ReplayResult,
} from "./replay.js";
export { formatReplayResult } from "./format/replay.js";
