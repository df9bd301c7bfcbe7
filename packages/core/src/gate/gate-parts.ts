import type { AgentIdentity } from "../identity/agent-identity.js";
import type { PermissionPolicy } from "../policy/permission-policy.js";
import type { Audit } from "./audit.js";
import type { Decision, DecisionCode } from "./decision.js";
import type { DecisionBuilder } from "./decision-builder.js";
import type { GateStore } from "./store.js";
import type { CheckRequest } from "./tool-call.js";

/** What the gate's pieces (limits, escalations) share: who decides, with what state, where decisions go. */
export interface GateParts {
  readonly identity: AgentIdentity;
  readonly policy: PermissionPolicy;
  readonly store: GateStore;
  readonly clock: () => number;
  readonly build: DecisionBuilder;
  readonly audit: Audit;
  /** Audits and returns a DENY for a failure of the gate's own machinery (never an ALLOW). */
  failClosed(request: CheckRequest, code: DecisionCode, reason: string, escalationId?: string): Decision;
}
