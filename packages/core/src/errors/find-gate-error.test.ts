import { describe, expect, it } from "vitest";
import { EscalationError } from "./escalation-error.js";
import { findGateError } from "./find-gate-error.js";

describe("findGateError", () => {
  it("finds the AgentGate error a framework wrapped as `cause`, a few levels deep, and nothing else", () => {
    const gateError = new EscalationError("AGENTGATE_ESCALATION_UNKNOWN", "e1", "unknown escalation");
    const wrapped = new Error("tool failed", { cause: new Error("runner", { cause: gateError }) });
    expect(findGateError(wrapped)).toBe(gateError);
    expect(findGateError(gateError)).toBe(gateError);
    expect(findGateError(new Error("plain", { cause: "text" }))).toBeUndefined();
    expect(findGateError(null)).toBeUndefined();
    // A cause cycle ends after a few levels instead of looping.
    const a: { cause?: unknown } = {};
    a.cause = a;
    expect(findGateError(a)).toBeUndefined();
  });
});
