export { AgentGateError, type AgentGateErrorCode } from "./agent-gate-error.js";
export { EscalationError } from "./escalation-error.js";
export { PermissionDeniedError } from "./permission-denied-error.js";
export { PolicyValidationError, type PolicyIssue } from "./policy-validation-error.js";
export { StoreUnavailableError } from "./store-unavailable-error.js";
export { EscalationLimitError } from "./escalation-limit-error.js";
