// `@agentgate/core/internal`: what the adapters and stores share with core but users do not
// need. No compatibility promise across minor versions; import from `@agentgate/core` instead.
export { approvalRequestFor } from "./gate/approval.js";
export { BoundedMap } from "./gate/bounded-map.js";
export { errorText } from "./errors/error-text.js";
export { isDecision } from "./gate/decision.js";
export { canonicalJson } from "./gate/fingerprint.js";
export type { MaybePromise } from "./gate/store.js";
export { compileGlob, globError, type CompiledGlob } from "./policy/glob.js";
export { GlobList } from "./policy/glob-list.js";
export type { Evaluation } from "./policy/permission-policy.js";
export { normalizeTarget, targetKind } from "./policy/target.js";
export {
  recordApprovalAnswers,
  type ApprovalAnswerInput,
  type AskedApproval,
  type RecordApprovalAnswersOptions,
  type RecordedAnswer,
  type RecordedAnswerStatus,
} from "./gate/approval-answers.js";
export { decideToolApproval, type ApprovalVerdict, type ToolApprovalRequest } from "./gate/approval-verdict.js";
export { raceAbort } from "./gate/race-abort.js";
export { checkToolCallWithContext, refuseUnchecked, type CallContext } from "./gate/tool-call-context.js";
export { safeOwn } from "./gate/tool-call.js";
export {
  runToolCallOnce,
  toolResultText,
  type JsonToolCall,
  type ToolRunOutcome,
  type ToolRunStatus,
} from "./gate/run-tool-call-once.js";
export {
  ToolOutputLedger,
  toolOutputLedgerOf,
  verifyToolOutput,
  type ToolOutputEntry,
} from "./gate/tool-output-ledger.js";
export {
  askAboutPausedCall,
  recordFrameworkAnswer,
  recordFrameworkRejection,
  toolMayEscalate,
  type ApproverOutcome,
  type EscalatedCall,
  type FrameworkAnswer,
} from "./gate/framework-approval.js";
export { parseToolArguments, type ToolArguments } from "./gate/tool-arguments.js";
export { admitModelCall } from "./gate/model-call.js";
export { deniedToolResultIn } from "./gate/denied-tool-result-text.js";
export {
  FrameworkToolSteps,
  type FrameworkApprovalSeen,
  type FrameworkToolStepsOptions,
} from "./gate/framework-tool-steps.js";
export { deniedOutputFor, toolDenialFromError, toolDenialOf } from "./gate/tool-denial.js";
export { assertGateKeeper } from "./gate/assert-gate-keeper.js";
export { checkPausableToolCall, type PauseChannel, type PausedCallOutcome } from "./gate/paused-call.js";
export type { HitlActionRequest, HitlReviewConfig, PausedCallQuestion } from "./gate/paused-call-question.js";
export {
  hitlResponseApproves,
  readResumeAnswer,
  type HitlDecision,
  type ResumeAnswer,
  type ResumeValue,
} from "./gate/resume-answer.js";
export { askApprover, type ApproverAnswer, type AskApproverOptions } from "./gate/ask-approver.js";
export {
  verifyToolHistory,
  type ForgedToolResult,
  type ToolHistoryReader,
  type VerifiedHistory,
} from "./gate/verify-tool-history.js";
