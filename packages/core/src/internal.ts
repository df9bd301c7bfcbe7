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
export { askApprover, type ApproverAnswer, type AskApproverOptions } from "./gate/ask-approver.js";
