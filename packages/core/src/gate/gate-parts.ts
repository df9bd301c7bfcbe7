import type { AgentIdentity } from "../identity/agent-identity.js";
import type { PermissionPolicy } from "../policy/permission-policy.js";
import type { Audit } from "./audit.js";
import type { Decision, DecisionCode } from "./decision.js";
import type { DecisionBuilder } from "./decision-builder.js";
import type { GateStore } from "./store.js";
import type { CheckRequest } from "./tool-call.js";

/**
 * What the gate's pieces (limits, escalations) share: who decides, with what state, where decisions go.
 * A class rather than an object with a closure: a process may hold one gate per user (issue 19).
 */
export class GateParts {
  readonly identity: AgentIdentity;
  readonly policy: PermissionPolicy;
  readonly store: GateStore;
  readonly clock: () => number;
  readonly build: DecisionBuilder;
  readonly audit: Audit;

  constructor(
    identity: AgentIdentity,
    policy: PermissionPolicy,
    store: GateStore,
    clock: () => number,
    build: DecisionBuilder,
    audit: Audit,
  ) {
    this.identity = identity;
    this.policy = policy;
    this.store = store;
    this.clock = clock;
    this.build = build;
    this.audit = audit;
  }

  /** Audits and returns a DENY for a failure of the gate's own machinery (never an ALLOW). */
  failClosed(request: CheckRequest, code: DecisionCode, reason: string, escalationId?: string): Decision {
    const now = this.clock();
    return this.audit.record(this.build.refusal(request, code, reason, now, escalationId), request, now);
  }
}
