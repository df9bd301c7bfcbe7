import { describe, expect, it } from "vitest";
import { makeDecision } from "../gate/decision.js";
import * as entry from "../index.js";
import {
  AgentGateError,
  EscalationError,
  EscalationLimitError,
  PermissionDeniedError,
  PolicyValidationError,
  StoreUnavailableError,
} from "./index.js";

const decision = makeDecision({
  id: "d",
  type: "deny",
  code: "no_rule",
  agentId: "a",
  agentName: "bot",
  action: "shell",
  target: undefined,
  reason: "no rule",
  timestamp: new Date(0).toISOString(),
  policy: "p",
});

describe("errors", () => {
  const all = [
    new PermissionDeniedError(decision),
    new PolicyValidationError([{ path: "rules", message: "bad" }]),
    new EscalationError("AGENTGATE_ESCALATION_UNKNOWN", "e", "unknown"),
    new StoreUnavailableError("down"),
    new EscalationLimitError("full"),
  ];
  const classes = [
    PermissionDeniedError,
    PolicyValidationError,
    EscalationError,
    StoreUnavailableError,
    EscalationLimitError,
  ];

  it("each class recognises its own instances only; all are AgentGateErrors", () => {
    classes.forEach((cls, i) => {
      all.forEach((error, j) => expect(cls.isInstance(error)).toBe(i === j));
    });
    for (const error of all) {
      expect(AgentGateError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(AgentGateError);
    }
    expect(AgentGateError.isInstance(new Error("x"))).toBe(false);
    expect(AgentGateError.isInstance({ code: "AGENTGATE_STORE_UNAVAILABLE" })).toBe(false);
  });

  it("isInstance works across duplicate installs (a Symbol.for marker, not the prototype chain)", () => {
    const foreign = Object.assign(new Error("from another copy"), {
      [Symbol.for("agentgate.error")]: true,
      [Symbol.for("agentgate.error.StoreUnavailableError")]: true,
      code: "AGENTGATE_STORE_UNAVAILABLE",
    });
    expect(StoreUnavailableError.isInstance(foreign)).toBe(true);
    expect(AgentGateError.isInstance(foreign)).toBe(true);
    expect(PermissionDeniedError.isInstance(foreign)).toBe(false);
  });

  it("the package entry still exports every error class", () => {
    expect(entry.AgentGateError).toBe(AgentGateError);
    expect(entry.PermissionDeniedError).toBe(PermissionDeniedError);
    expect(entry.PolicyValidationError).toBe(PolicyValidationError);
    expect(entry.EscalationLimitError).toBe(EscalationLimitError);
    expect(entry.EscalationError).toBe(EscalationError);
    expect(entry.StoreUnavailableError).toBe(StoreUnavailableError);
  });
});
