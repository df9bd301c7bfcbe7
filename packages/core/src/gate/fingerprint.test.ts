import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callFingerprint, canonicalJson } from "./fingerprint.js";

/** The previous implementation (parts arrays, `map().join()`, `Array#sort`): the output must not change (holes, once printed as nothing, are now refused). */
function reference(value: unknown, depth = 0): string {
  if (depth > 32) throw new TypeError("arguments are nested more than 32 levels deep");
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "null";
  if (typeof value !== "object") throw new TypeError("not JSON");
  if (Array.isArray(value)) {
    if (Object.keys(value).length !== value.length) throw new TypeError("sparse array");
    return `[${value.map((v) => reference(v, depth + 1)).join(",")}]`;
  }
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function")
    return reference((obj as { toJSON: () => unknown }).toJSON(), depth + 1);
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === "function") continue;
    parts.push(`${JSON.stringify(k)}:${reference(v, depth + 1)}`);
  }
  return `{${parts.join(",")}}`;
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(null, true, false, undefined, Number.NaN, -0, Infinity),
    fc.double(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.sparseArray(tie("value"), { maxLength: 5 }),
    // Up to 40 keys: insertion sort below 17, Array#sort above.
    fc.dictionary(fc.string({ unit: "binary", maxLength: 4 }), tie("value"), { maxKeys: 40 }),
    fc.date({ noInvalidDate: true }),
  ),
})).value;

describe("canonicalJson", () => {
  it("prints exactly what the parts-and-join implementation printed", () => {
    fc.assert(
      fc.property(json, (value) => {
        let expected: string;
        try {
          expected = reference(value);
        } catch {
          expect(() => canonicalJson(value)).toThrow(TypeError);
          return;
        }
        expect(canonicalJson(value)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("sorts keys by UTF-16 code units, below and above the insertion-sort size", () => {
    expect(canonicalJson({ b: 1, a: 2, B: 3, "\u00e9": 4, "10": 5, "2": 6 })).toBe(
      '{"10":5,"2":6,"B":3,"a":2,"b":1,"\u00e9":4}',
    );
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${29 - i}`, i]));
    expect(Object.keys(JSON.parse(canonicalJson(many)))).toEqual(Object.keys(many).sort());
  });

  it("refuses holes, prints undefined as null, and skips undefined or function fields", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => canonicalJson([1, , 2])).toThrow(/sparse array/);
    expect(canonicalJson([undefined, null])).toBe("[null,null]");
    expect(() => canonicalJson([() => 1])).toThrow(/function/);
    expect(canonicalJson({ a: undefined, f: () => 1, b: 1 })).toBe('{"b":1}');
  });
});

describe("callFingerprint", () => {
  it("is the canonical JSON of [action, target, args] when short, returned without a promise", () => {
    const fp = callFingerprint("tool_use", "search", { query: "x", limit: 1 });
    expect(fp).toBe('["tool_use","search",{"limit":1,"query":"x"}]');
    expect(callFingerprint("llm_call", undefined, undefined)).toBe(canonicalJson(["llm_call", null, null]));
  });

  it("equals canonicalJson([action, target ?? null, args ?? null]) for any input", () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), json, (action, target, args) => {
        let text: string;
        try {
          text = canonicalJson([action, target ?? null, args ?? null]);
        } catch {
          expect(() => callFingerprint(action, target, args)).toThrow(TypeError);
          return;
        }
        const fp = callFingerprint(action, target, args);
        if (text.length <= 512) expect(fp).toBe(text);
        else expect(fp).toBeInstanceOf(Promise);
      }),
      { numRuns: 500 },
    );
  });

  it("hashes long input (a promise of sha256:...), the same for the same input", async () => {
    const args = { text: "x".repeat(600) };
    const a = callFingerprint("tool_use", "write", args);
    expect(a).toBeInstanceOf(Promise);
    expect(await a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await callFingerprint("tool_use", "write", { text: "x".repeat(600) })).toBe(await a);
    expect(await callFingerprint("tool_use", "write", { text: "y".repeat(600) })).not.toBe(await a);
  });

  it("throws, synchronously, for arguments with no faithful JSON form", () => {
    expect(() => callFingerprint("tool_use", "t", { m: new Map() })).toThrow(/Map/);
    expect(() => callFingerprint("tool_use", "t", { n: 1n })).toThrow(/bigint/);
  });
});

describe("sparse arrays", () => {
  it("are refused at the first hole, at once however long the array", () => {
    const started = performance.now();
    expect(() => canonicalJson({ x: new Array(50_000_000) })).toThrow(/sparse array \(a hole at index 0\)/);
    expect(() => canonicalJson([1, , 3])).toThrow(/hole at index 1/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(canonicalJson([1, undefined, 3])).toBe("[1,null,3]");
  });
});
