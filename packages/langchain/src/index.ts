export { GateCallbackHandler, type GateCallbackHandlerOptions } from "./gate-callback-handler.js";
export { gateMiddleware, type GateMiddlewareOptions } from "./gate-middleware.js";
export { gateTools, type GateToolInput, type GateToolsMapping, type GateToolsOptions } from "./gate-tools.js";
export { CheckpointerRequiredError } from "./checkpointer-required-error.js";
export {
  isGateInterrupt,
  type GateActionRequest,
  type GateHitlDecision,
  type GateInterruptValue,
  type GateReviewConfig,
  type GateResumeValue,
} from "./approval-interrupt.js";
