import {
  AgentIdentity,
  GateKeeper,
  isGrantStore,
  PermissionPolicy,
  type AuditSink,
  type GateStore,
} from "@agentgate/core";

/** The shared policy every example agent runs under. */
export const defaultPolicyUrl = new URL("../../policy.yaml", import.meta.url);

export interface DemoGateOptions {
  /** The YAML policy. Default: the examples' shared `policy.yaml`. */
  policyUrl?: URL;
  /** Where decisions go as they happen (the terminal printer, an audit file, ...). */
  auditSinks?: AuditSink[];
  /** Shared state (a RedisStore the approval inbox also reads); grants are used when it keeps them. */
  store?: GateStore;
}

/**
 * The one place the demo builds its gate: identity, policy and audit sinks.
 * No inline approval handler: escalations go through the AI SDK's own
 * approval request, and answers are recorded with `recordApprovals`.
 */
export async function createDemoGate(options: DemoGateOptions = {}): Promise<GateKeeper> {
  const policy = PermissionPolicy.fromYaml(options.policyUrl ?? defaultPolicyUrl);
  const identity = await AgentIdentity.create("ops-assistant", {
    capabilities: ["search", "files", "deploy", "status"],
    metadata: { example: "ai-sdk-agent" },
  });
  const store = options.store;
  return new GateKeeper({
    identity,
    policy,
    auditSinks: options.auditSinks ?? [],
    ...(store ? { store, ...(isGrantStore(store) ? { grants: store } : {}) } : {}),
  });
}
