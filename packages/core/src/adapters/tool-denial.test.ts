import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { deniedToolResult, isDeniedToolResult } from "../gate/approval.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { deniedOutputFor, toolDenialFromError, toolDenialOf } from "./tool-denial.js";

const gate = new GateKeeper({
  identity: await AgentIdentity.create("denial-bot"),
  policy: new PermissionPolicy({
    name: "d",
    rules: [{ action: "tool_use", allowed: true, allowedTargets: ["deploy"], escalateTargets: ["deploy"] }],
  }),
});

describe("tool denials", () => {
  it("a DENY reads as the gate's reason; an unanswered ESCALATE says a human must approve", async () => {
    const denied = await gate.checkToolCall({ toolName: "wipe", input: {}, callId: "a" });
    expect(toolDenialOf(denied, "wipe", "a")).toEqual({
      toolName: "wipe",
      callId: "a",
      reason: denied.reason,
      code: denied.code,
      decision: denied,
    });
    expect(deniedOutputFor(toolDenialOf(denied, "wipe", "a"))).toEqual(deniedToolResult(denied));
    const escalated = await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "b" });
    const denial = toolDenialOf(escalated, "deploy", undefined);
    expect(denial.callId).toBeUndefined();
    expect(denial.reason).toMatch(/a human must approve this call and AgentGate has no recorded approval/);
    expect(deniedOutputFor(denial)).toMatchObject({ denied: true, decision: "escalate", reason: denial.reason });
  });

  it("a framework's refusal: a passed-through denial keeps its code; else a rejection or a failure", async () => {
    const denied = deniedToolResult(await gate.checkToolCall({ toolName: "wipe", input: {}, callId: "c" }));
    const call = { toolName: "wipe", callId: "c", rejected: false };
    expect(toolDenialFromError(new Error(JSON.stringify(denied)), call)).toMatchObject({
      code: denied.code,
      reason: denied.reason,
    });
    expect(toolDenialFromError(new Error("not now"), { ...call, rejected: true })).toMatchObject({
      code: "approval_denied",
      reason: "not now",
    });
    const failed = toolDenialFromError(new Error("disk full"), call);
    expect(failed).toMatchObject({ code: "internal_error", reason: "disk full", callId: "c" });
    expect(isDeniedToolResult(deniedOutputFor(failed))).toBe(true);
  });
});
