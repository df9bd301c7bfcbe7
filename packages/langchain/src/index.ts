export { GateCallbackHandler, type GateCallbackHandlerOptions } from "./gate-callback-handler.js";
export { gateMiddleware, type GateMiddlewareOptions } from "./gate-middleware.js";
export { gateTools, type GateToolInput, type GateToolsMapping, type GateToolsOptions } from "./gate-tools.js";
export { CheckpointerRequiredError } from "./checkpointer-required-error.js";
export { isGateInterrupt, type GateInterruptValue } from "./approval-interrupt.js";
// The HITL protocol's shapes (LangChain's `HITLRequest` and `HITLResponse`), under this package's names.
export type {
  HitlActionRequest as GateActionRequest,
  HitlDecision as GateHitlDecision,
  HitlReviewConfig as GateReviewConfig,
  ResumeValue as GateResumeValue,
} from "@agentgate/core/internal";
