import { PermissionPolicy } from "@agentgate/core";
import { createMongoAbility, subject } from "@casl/ability";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { PolicyEngine as AgtPolicyEngine } from "@microsoft/agent-governance-sdk";
import { newEnforcer, newModelFromString, StringAdapter } from "casbin";
import picomatch from "picomatch";
import { POLICY, REQUESTS, type Request } from "./fixture.ts";

/**
 * One authorisation engine with the fixture policy encoded its own idiomatic way.
 * `prepare` turns a request into the engine's native input once, outside the timed loop;
 * `check` is what gets timed and returns true for ALLOW.
 */
export interface Engine<N = any> {
  name: string;
  /** How the policy is expressed in this engine, for the report. */
  how: string;
  prepare: (r: Request) => N;
  check: (native: N) => boolean;
}

export function permissionPolicyEngine(): Engine<Request> {
  const policy = new PermissionPolicy(POLICY);
  return {
    name: "PermissionPolicy.check",
    how: "the policy as written (`new PermissionPolicy(...)`), targets normalised before matching",
    prepare: (r) => r,
    check: (r) => policy.check(r.action, r.target) === "allow",
  };
}

/** The floor: a Map lookup plus one precompiled picomatch matcher. No normalisation, no reasons. */
export function floorEngine(): Engine<Request> {
  const rules = new Map(
    POLICY.rules.map((r) => [
      r.action,
      {
        allowed: r.allowed === true,
        match: r.allowedTargets ? picomatch([...r.allowedTargets], { dot: true }) : undefined,
      },
    ]),
  );
  return {
    name: "naive floor (Map + picomatch)",
    how: "`Map<action, { allowed, picomatch(allowedTargets) }>`, matcher compiled once",
    prepare: (r) => r,
    check: (r) => {
      const rule = rules.get(r.action);
      if (rule === undefined || !rule.allowed) return false;
      if (rule.match === undefined) return true;
      return r.target !== undefined && rule.match(r.target);
    },
  };
}

export function caslEngine(): Engine<[string, unknown]> {
  const workspace = picomatch.makeRe("/workspace/**", { dot: true });
  const ability = createMongoAbility([
    { action: "tool_use", subject: "Tool", conditions: { name: "search" } },
    { action: "llm_call", subject: "Model" },
    { action: "file_read", subject: "File", conditions: { path: { $regex: workspace } } },
    { action: "shell", subject: "Command", inverted: true },
  ]);
  const kind: Record<string, [string, string]> = {
    tool_use: ["Tool", "name"],
    file_read: ["File", "path"],
    shell: ["Command", "command"],
    network: ["Url", "href"],
  };
  return {
    name: "@casl/ability",
    how: "`createMongoAbility` rules per subject type; `/workspace/**` as a `$regex` condition (picomatch.makeRe)",
    prepare: (r) => {
      const k = kind[r.action];
      if (k === undefined || r.target === undefined) return [r.action, "Model"];
      return [r.action, subject(k[0], { [k[1]]: r.target })];
    },
    check: ([action, subj]) => ability.can(action, subj as never),
  };
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.sub == p.sub && r.act == p.act && keyMatch(r.obj, p.obj)
`;

const CASBIN_POLICY = `
p, bench-agent, search, tool_use, allow
p, bench-agent, *, llm_call, allow
p, bench-agent, /workspace/*, file_read, allow
p, bench-agent, *, shell, deny
`;

export async function casbinEngine(): Promise<Engine<[string, string, string]>> {
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(CASBIN_POLICY));
  return {
    name: "casbin enforceSync",
    how: "ACL model `(sub, obj, act, eft)`, allow-and-not-deny effect, `keyMatch` for `/workspace/*`",
    prepare: (r) => ["bench-agent", r.target ?? "", r.action],
    check: ([sub, obj, act]) => enforcer.enforceSync(sub, obj, act),
  };
}

const CEDAR_POLICIES = `
permit (principal, action == Action::"tool_use", resource) when { context has target && context.target == "search" };
permit (principal, action == Action::"llm_call", resource);
permit (principal, action == Action::"file_read", resource) when { context has target && context.target like "/workspace/*" };
forbid (principal, action == Action::"shell", resource);
`;

export function cedarEngine(): Engine<cedar.StatefulAuthorizationCall> {
  const parsed = cedar.preparsePolicySet("bench", { staticPolicies: CEDAR_POLICIES });
  if (parsed.type !== "success") throw new Error(`cedar could not parse the policy set: ${JSON.stringify(parsed)}`);
  return {
    name: "cedar-wasm statefulIsAuthorized",
    how: 'four Cedar policies, pre-parsed once (`preparsePolicySet`); target in `context`, `like "/workspace/*"`',
    prepare: (r) => ({
      principal: { type: "Agent", id: "bench-agent" },
      action: { type: "Action", id: r.action },
      resource: { type: "Target", id: r.target ?? "" },
      context: (r.target === undefined ? {} : { target: r.target }) as cedar.Context,
      entities: [],
      preparsedPolicySetId: "bench",
    }),
    check: (call) => {
      const answer = cedar.statefulIsAuthorized(call);
      if (answer.type !== "success") throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
      if (answer.response.diagnostics.errors.length > 0) {
        throw new Error(`cedar policy errors: ${JSON.stringify(answer.response.diagnostics.errors)}`);
      }
      return answer.response.decision === "allow";
    },
  };
}

/**
 * Microsoft Agent Governance Toolkit (`@microsoft/agent-governance-sdk`), `PolicyEngine.evaluate`: flat rules,
 * first match wins, default deny. Its conditions are equality checks on context keys (no glob or prefix on
 * a target), so `/workspace/**` is a boolean context key the check computes per request with the floor's
 * precompiled picomatch matcher, inside the timed call.
 */
export function agtEngine(): Engine<Request> {
  const workspace = picomatch("/workspace/**", { dot: true });
  const engine = new AgtPolicyEngine([
    { action: "tool_use", effect: "allow", conditions: { target: "search" } },
    { action: "llm_call", effect: "allow" },
    { action: "file_read", effect: "allow", conditions: { inWorkspace: true } },
    { action: "shell", effect: "deny" },
    { action: "*", effect: "deny" },
  ]);
  return {
    name: "agent-governance-sdk PolicyEngine.evaluate",
    how: "flat rules with equality `conditions`, `*` deny last; `/workspace/**` as a boolean context key from picomatch, computed in the check",
    prepare: (r) => r,
    check: (r) =>
      engine.evaluate(
        r.action,
        r.target === undefined
          ? {}
          : { target: r.target, inWorkspace: r.action === "file_read" && workspace(r.target) },
      ) === "allow",
  };
}

export async function allEngines(): Promise<Engine[]> {
  return [floorEngine(), permissionPolicyEngine(), caslEngine(), await casbinEngine(), cedarEngine(), agtEngine()];
}

/** Each engine's decisions on `requests`, to compare before anything is timed. */
export function decisionsOf(engine: Engine, requests: readonly Request[] = REQUESTS): boolean[] {
  return requests.map((r) => engine.check(engine.prepare(r)));
}

export function cedarVersion(): string {
  return cedar.getCedarVersion();
}
