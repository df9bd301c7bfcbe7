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
} from "./adapters/approval-answers.js";
export { decideToolApproval, type ApprovalVerdict, type ToolApprovalRequest } from "./adapters/approval-verdict.js";
export { raceAbort } from "./adapters/race-abort.js";
export { rejectOnThrow } from "./adapters/reject-on-throw.js";
export { checkToolCallWithContext, refuseUnchecked, type CallContext } from "./adapters/tool-call-context.js";
export { safeOwn } from "./gate/tool-call.js";
export {
  runToolCallOnce,
  toolResultText,
  type JsonToolCall,
  type ToolRunOutcome,
  type ToolRunStatus,
} from "./adapters/run-tool-call-once.js";
export {
  ToolOutputLedger,
  toolOutputLedgerOf,
  verifyToolOutput,
  type ToolOutputEntry,
} from "./adapters/tool-output-ledger.js";
export {
  askAboutPausedCall,
  recordFrameworkAnswer,
  recordFrameworkRejection,
  toolMayEscalate,
  type ApproverOutcome,
  type EscalatedCall,
  type FrameworkAnswer,
} from "./adapters/framework-approval.js";
export { parseToolArguments, type ToolArguments } from "./adapters/tool-arguments.js";
export { admitModelCall } from "./adapters/model-call.js";
export { deniedToolResultIn } from "./adapters/denied-tool-result-text.js";
export {
  FrameworkToolSteps,
  type FrameworkAnswers,
  type FrameworkApprovalSeen,
  type FrameworkToolStepsOptions,
} from "./adapters/framework-tool-steps.js";
export { deniedOutputFor, toolDenialFromError, toolDenialOf } from "./adapters/tool-denial.js";
export { assertGateKeeper } from "./adapters/assert-gate-keeper.js";
export { checkPausableToolCall, type PauseChannel, type PausedCallOutcome } from "./adapters/paused-call.js";
export type { HitlActionRequest, HitlReviewConfig, PausedCallQuestion } from "./adapters/paused-call-question.js";
export {
  hitlResponseApproves,
  readResumeAnswer,
  type HitlDecision,
  type ResumeAnswer,
  type ResumeValue,
} from "./adapters/resume-answer.js";
export { askApprover, type ApproverAnswer, type AskApproverOptions } from "./gate/ask-approver.js";
export {
  verifyToolHistory,
  type ForgedToolResult,
  type ToolHistoryReader,
  type VerifiedHistory,
} from "./adapters/verify-tool-history.js";
