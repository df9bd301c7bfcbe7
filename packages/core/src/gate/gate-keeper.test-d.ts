import { describe, expectTypeOf, it } from "vitest";
import { Action, DecisionType, type ActionName } from "../action.js";
import type { PolicyIssue } from "../errors.js";
import { PermissionDeniedError, PolicyValidationError } from "../errors.js";
import type { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import type { ApprovalHandler, ApprovalRequest } from "./approval.js";
import type { Decision, DecisionCode } from "./decision.js";
import type { GateKeeper, ToolMapping } from "./gate-keeper.js";

declare const gate: GateKeeper;
declare const identity: AgentIdentity;

describe("core types", () => {
  it("Action and DecisionType are literal constants", () => {
    expectTypeOf(Action.TOOL_USE).toEqualTypeOf<"tool_use">();
    expectTypeOf(DecisionType.ESCALATE).toEqualTypeOf<"escalate">();
    expectTypeOf<"tool_use">().toExtend<ActionName>();
    expectTypeOf<"my_custom_action">().toExtend<ActionName>();
  });

  it("check resolves a Decision whose type is the three verdicts", () => {
    expectTypeOf(gate.check("tool_use", "search")).toEqualTypeOf<Promise<Decision>>();
    expectTypeOf(gate.check("tool_use", { target: "x", args: { a: 1 }, callId: "c", execute: true })).toEqualTypeOf<
      Promise<Decision>
    >();
    expectTypeOf<Decision["type"]>().toEqualTypeOf<"allow" | "deny" | "escalate">();
    expectTypeOf<"call_replayed">().toExtend<DecisionCode>();
    expectTypeOf<Decision>().toHaveProperty("retryAfterMs").toEqualTypeOf<number | undefined>();
    // @ts-expect-error a target must be a string
    void gate.check("tool_use", 42);
  });

  it("rules are camelCase in TypeScript", () => {
    expectTypeOf<ActionRule>().toHaveProperty("maxPerMinute").toEqualTypeOf<number | undefined>();
    // @ts-expect-error YAML keys are snake_case; TypeScript keys are camelCase
    const bad: ActionRule = { action: "x", max_per_minute: 3 };
    void bad;
    expectTypeOf(PermissionPolicy.parse).returns.toEqualTypeOf<PermissionPolicy>();
    expectTypeOf(new PermissionPolicy({ name: "p", rules: [] }).check("shell")).toEqualTypeOf<
      "allow" | "deny" | "escalate"
    >();
  });

  it("approval handlers and mappings", () => {
    expectTypeOf<ApprovalHandler>().parameter(0).toEqualTypeOf<ApprovalRequest>();
    const handler: ApprovalHandler = async (req) => ({ approved: req.action === "file_write", approvedBy: "alice" });
    const yes: ApprovalHandler = () => true;
    void handler;
    void yes;
    const mapping: ToolMapping = { readFile: { action: "file_read", target: (input: { path: string }) => input.path } };
    void mapping;
    expectTypeOf(gate.resolveEscalation("id", { approved: true })).toEqualTypeOf<Promise<Decision>>();
    expectTypeOf(gate.identity).toEqualTypeOf<AgentIdentity>();
    void identity;
  });

  it("errors carry what callers need", () => {
    expectTypeOf<PermissionDeniedError["decision"]>().toEqualTypeOf<Decision>();
    expectTypeOf<PolicyValidationError["issues"]>().toEqualTypeOf<readonly PolicyIssue[]>();
    expectTypeOf(PermissionDeniedError.isInstance).guards.toEqualTypeOf<PermissionDeniedError>();
  });
});
