import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DECISION_FIELDS, decisionShape, makeDecision } from "./decision.js";

const decisionOf = (...args: Parameters<typeof decisionShape>) => Object.freeze(decisionShape(...args));

/** The field order of a Decision, as JSON, `Object.keys` and spreads show it. */
const ORDER: readonly string[] = DECISION_FIELDS;

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const fieldsArb = fc.record({
  id: fc.uuid(),
  type: fc.constantFrom("allow" as const, "deny" as const, "escalate" as const),
  code: fc.constantFrom("allowed" as const, "rate_limit" as const, "approved" as const),
  agentId: fc.string(),
  agentName: fc.string(),
  action: fc.string({ minLength: 1 }),
  target: optional(fc.string()),
  reason: fc.string(),
  timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  policy: fc.string(),
  approvedBy: optional(fc.string()),
  callId: optional(fc.string({ minLength: 1 })),
  escalationId: optional(fc.uuid()),
  grantId: optional(fc.uuid()),
  retryAfterMs: optional(fc.nat()),
  mode: optional(fc.constant("local-fallback" as const)),
});

describe("decisions (issue 19: one allocation on the hot path, same shape)", () => {
  it("makeDecision: frozen, only the fields given, always in one order, JSON round-trips", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const d = makeDecision(fields);
        expect(Object.isFrozen(d)).toBe(true);
        const given = ORDER.filter((k) => (fields as Record<string, unknown>)[k] !== undefined);
        expect(Object.keys(d)).toEqual(given);
        expect(Object.keys({ ...d })).toEqual(given);
        expect(JSON.parse(JSON.stringify(d))).toEqual(d);
        for (const k of given)
          expect((d as unknown as Record<string, unknown>)[k]).toBe((fields as Record<string, unknown>)[k]);
      }),
    );
  });

  it("decisionShape, frozen, is makeDecision without the rare fields, key for key and in order", () => {
    fc.assert(
      fc.property(fieldsArb, (f) => {
        const fast = decisionOf(
          f.id,
          f.type,
          f.code,
          f.agentId,
          f.agentName,
          f.action,
          f.target,
          f.reason,
          f.timestamp,
          f.policy,
          f.callId,
        );
        const slow = makeDecision({
          ...f,
          approvedBy: undefined,
          escalationId: undefined,
          grantId: undefined,
          retryAfterMs: undefined,
          mode: undefined,
        });
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
        expect(Object.keys(fast)).toEqual(Object.keys(slow));
      }),
    );
  });

  it("clips an oversized target and reason on both paths", () => {
    const big = "t".repeat(20_000);
    const d = decisionOf("i", "deny", "denied_target", "a", "n", "file_read", big, big, "ts", "p", undefined);
    expect(d.target!.length).toBeLessThan(400);
    expect(d.reason.length).toBeLessThan(400);
    expect(d.target).toMatch(/\[20000 characters, clipped\]$/);
  });
});
