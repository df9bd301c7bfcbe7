export { gateTools, withGate, type WithGateOptions } from "./with-gate.js";
export { gateToolApproval, type GateToolApprovalFunction, type GateToolApprovalOptions } from "./gate-tool-approval.js";
export {
  recordApprovals,
  type RecordApprovalsOptions,
  type RecordedApproval,
  type TrustedApprovalRequest,
} from "./record-approvals.js";
export {
  gateModel,
  gateModelMiddleware,
  type GateableLanguageModel,
  type GatedLanguageModel,
  type GateModelCallInfo,
  type GateModelOptions,
} from "./gate-model.js";
export { isGateDenial, type GateDeniedResult } from "./denial.js";
export type { GateCallInfo, GateContextResolver } from "./context.js";
