export { Action, DecisionType, type ActionName, type BuiltInAction } from "./action.js";
export {
  AgentGateError,
  EscalationError,
  PermissionDeniedError,
  PolicyValidationError,
  StoreUnavailableError,
  type AgentGateErrorCode,
  type PolicyIssue,
} from "./errors/index.js";
export {
  AgentIdentity,
  type AgentIdentityOptions,
  type ExportedIdentity,
  type JsonWebKey,
  type PublicIdentity,
  type SigningAlgorithm,
} from "./identity/agent-identity.js";
export {
  PermissionPolicy,
  type CompiledRule,
  type PolicyCode,
  type PolicyExplanation,
} from "./policy/permission-policy.js";
export type { ActionRule, PolicyConfig } from "./policy/rule.js";
export { MAX_TARGET_LENGTH, type NormalizedTarget, type TargetKind } from "./policy/target.js";
export {
  deniedToolResult,
  isDeniedToolResult,
  normalizeApproval,
  type ApprovalAnswer,
  type ApprovalHandler,
  type ApprovalRequest,
  type ApprovalResolution,
  type DeniedToolResult,
} from "./gate/approval.js";
export { makeDecision, type Decision, type DecisionCode } from "./gate/decision.js";
export {
  GateKeeper,
  type AuditEvent,
  type AuditSink,
  type CheckOptions,
  type DecisionObserver,
  type GateKeeperOptions,
  type PendingEscalationsOptions,
  type RefuseOptions,
  type ToolCall,
  type ToolMapping,
} from "./gate/gate-keeper.js";
export { MemoryStore, type MemoryStoreOptions } from "./gate/memory-store.js";
export {
  applyGrant,
  consultGrants,
  grantMatches,
  grantMatchOf,
  hasEscalationEvents,
  isGrantStore,
  MemoryGrants,
  settleStoredEscalation,
  type EscalationEvents,
  type Grant,
  type GrantMatch,
  type GrantStore,
  type SettleStoredOptions,
  type SettleStoredResult,
} from "./gate/grants.js";
export type {
  CallRecord,
  ClaimRequest,
  ClaimResult,
  ConsumeOutcome,
  ConsumeRequest,
  ConsumeResult,
  EscalationQuery,
  EscalationRecord,
  GateStore,
  SettleResult,
} from "./gate/store.js";
export { EscalationLimitError } from "./errors/index.js";
export { findGateError } from "./errors/find-gate-error.js";
export type { ToolDenial } from "./adapters/tool-denial.js";
export { ModelCallDeniedError } from "./errors/model-call-denied-error.js";
export { ESCALATION_WRITE_WINDOW_MS } from "./gate/escalations-unrecorded.js";
