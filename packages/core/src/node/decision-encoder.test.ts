import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeDecision } from "../gate/decision.js";
import { DecisionEncoder, NO_ROOM, UNSUPPORTED } from "./decision-encoder.js";

// Hostile strings: lone surrogates, controls, quotes, backslashes, U+2028, non-ASCII, emoji.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom('"', "\\", "\n", "\u0000", "\u001f", "\u007f", "\u2028", "\ud800", "\udfff", "é", "😀", ""),
);
/** A few values per field, so the encoder's caches are hit as well as missed. */
const repeated = fc.oneof(text, fc.constantFrom("search", 'rule "x" allows', "tool_use", "bench-policy"));
const primitive = fc.oneof(
  repeated,
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, true, false, null, undefined),
);

/** Gate-made decisions (frozen, optional fields omitted). */
const gateDecision = fc
  .record(
    {
      id: fc.oneof(fc.uuid(), text),
      type: fc.constantFrom("allow", "deny", "escalate"),
      code: fc.constantFrom("allowed", "no_rule", "rate_limit"),
      agentId: repeated,
      agentName: repeated,
      action: repeated,
      target: fc.option(repeated, { nil: undefined }),
      reason: repeated,
      timestamp: fc.constantFrom("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.001Z"),
      policy: repeated,
      approvedBy: fc.option(text, { nil: undefined }),
      callId: fc.option(text, { nil: undefined }),
      escalationId: fc.option(fc.uuid(), { nil: undefined }),
      grantId: fc.option(text, { nil: undefined }),
      retryAfterMs: fc.option(fc.oneof(fc.nat(), fc.double()), { nil: undefined }),
      mode: fc.option(fc.constant("local-fallback" as const), { nil: undefined }),
    },
    { requiredKeys: ["id", "type", "code", "agentId", "agentName", "action", "reason", "timestamp", "policy"] },
  )
  .map((f) => makeDecision({ target: undefined, ...f } as Parameters<typeof makeDecision>[0]));

/** Anything a caller could hand a sink: any keys in any order (integer-like ones too), extra and nested fields. */
const anyObject = fc.oneof(
  fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("id", "timestamp", "reason", "0", "12", "__proto__")), primitive),
  fc.dictionary(fc.string(), fc.oneof(primitive, fc.object(), fc.array(primitive), fc.func(primitive))),
  fc.tuple(gateDecision, fc.dictionary(fc.string(), primitive)).map(([d, extra]) => ({ ...extra, ...d, ...extra })),
);

/** What the encoder writes for `value` (and the end it returned), or `undefined` when it leaves it to JSON.stringify. */
function encoded(encoder: DecisionEncoder, value: object, at = 3, room = 1 << 20): string | undefined {
  const buf = Buffer.alloc(at + room);
  const end = encoder.encode(buf, at, buf.length, value);
  if (end === UNSUPPORTED) return undefined;
  expect(end).toBeGreaterThanOrEqual(at);
  return buf.toString("utf8", at, end);
}

describe("DecisionEncoder", () => {
  it("writes exactly JSON.stringify's UTF-8 for gate decisions, cached runs included", () => {
    const encoder = new DecisionEncoder();
    fc.assert(
      fc.property(fc.array(gateDecision, { minLength: 1, maxLength: 8 }), (decisions) => {
        // Twice over: the second pass is served from the caches the first one filled.
        for (const d of [...decisions, ...decisions]) {
          const out = encoded(encoder, d);
          expect(out).toBe(JSON.stringify(d));
          expect(Buffer.byteLength(out!, "utf8")).toBe(Buffer.byteLength(JSON.stringify(d), "utf8"));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("writes JSON.stringify's text for any object it accepts, and leaves the rest to JSON.stringify", () => {
    const encoder = new DecisionEncoder();
    fc.assert(
      fc.property(fc.array(anyObject, { minLength: 1, maxLength: 6 }), (values) => {
        for (const v of [...values, ...values]) {
          const out = encoded(encoder, v);
          if (out !== undefined) expect(out).toBe(JSON.stringify(v));
          else {
            // Only for values it cannot write as JSON.stringify would (fast-check also makes null-prototype objects).
            const nested = Object.values(v).some(
              (x) => (typeof x === "object" && x !== null) || typeof x === "function",
            );
            expect(nested || Object.getPrototypeOf(v) !== Object.prototype).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("says NO_ROOM rather than write past its limit, whatever the limit", () => {
    const encoder = new DecisionEncoder();
    fc.assert(
      fc.property(gateDecision, fc.nat(600), (d, limit) => {
        const buf = Buffer.alloc(limit + 64, 0xee);
        const end = encoder.encode(buf, 0, limit, d);
        const size = Buffer.byteLength(JSON.stringify(d), "utf8");
        if (size <= limit && end !== NO_ROOM) expect(buf.toString("utf8", 0, end)).toBe(JSON.stringify(d));
        if (end !== NO_ROOM) expect(end).toBeLessThanOrEqual(limit);
        if (size > limit) expect(end).toBe(NO_ROOM);
        // Nothing at or past the limit was touched.
        expect(buf.subarray(limit).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("leaves to JSON.stringify what it would serialise differently: toJSON, prototypes, inherited keys, nesting", () => {
    const encoder = new DecisionEncoder();
    const d = makeDecision({
      id: "d-1",
      type: "allow",
      code: "allowed",
      agentId: "a",
      agentName: "b",
      action: "tool_use",
      target: "search",
      reason: "ok",
      timestamp: "2026-01-01T00:00:00.000Z",
      policy: "p",
    });
    expect(encoded(encoder, d)).toBe(JSON.stringify(d));
    expect(encoded(encoder, { ...d, toJSON: () => "x" })).toBeUndefined();
    expect(encoded(encoder, Object.assign(Object.create(null), d))).toBeUndefined();
    expect(encoded(encoder, Object.assign(Object.create({ extra: "inherited" }), d))).toBeUndefined();
    expect(encoded(encoder, { ...d, nested: { a: 1 } })).toBeUndefined();
    expect(encoded(encoder, { ...d, big: 1n })).toBeUndefined();
    // Getters are read once, as JSON.stringify reads them.
    let reads = 0;
    const withGetter = Object.defineProperty({ ...d }, "reason", {
      get: () => `read ${++reads}`,
      enumerable: true,
    });
    expect(encoded(encoder, withGetter)).toBe(JSON.stringify({ ...d, reason: "read 1" }));
    expect(reads).toBe(1);
    // An enumerable key on Object.prototype (pollution) appears in for-in but not in JSON.stringify.
    (Object.prototype as Record<string, unknown>).polluted = "yes";
    try {
      const out = encoded(encoder, d);
      if (out !== undefined) expect(out).toBe(JSON.stringify(d));
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(encoded(encoder, d)).toBe(JSON.stringify(d));
  });

  it("keeps its caches bounded under decisions that never repeat", () => {
    const encoder = new DecisionEncoder();
    for (let i = 0; i < 20_000; i++) {
      const d = {
        id: `d-${i}`,
        type: "deny",
        reason: `no rule for target ${"x".repeat(i % 300)}${i}`,
        target: `t${i}`,
      };
      expect(encoded(encoder, d)).toBe(JSON.stringify(d));
    }
  });
});
