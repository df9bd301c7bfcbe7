import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PermissionPolicy } from "./permission-policy.js";
import type { PolicyConfig } from "./rule.js";
import { MAX_TARGET_LENGTH } from "./target.js";

const config: PolicyConfig = {
  name: "memo",
  rules: [
    { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy", "wire_*"] },
    { action: "llm_call", allowed: true, maxPerMinute: 10 },
    { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"], deniedTargets: ["**/.env"] },
    { action: "file_write", allowed: true, requireApproval: true },
    { action: "network", allowed: true, allowedTargets: ["https://api.example.com/**"] },
    { action: "shell", allowed: false, description: "no shell" },
  ],
};

const actions = ["tool_use", "llm_call", "file_read", "file_write", "network", "shell", "data_access"];
const targets = [
  undefined,
  "search",
  "deploy",
  "wire_x",
  "rm",
  "/workspace/a.ts",
  "/workspace/b/../c.ts",
  "/workspace/.env",
  "/etc/passwd",
  "https://api.example.com/v1?x=1",
  "https://evil.example/",
  "",
];

describe("PermissionPolicy.evaluate reuses evaluations (issue 19)", () => {
  it("any sequence of checks gets what a fresh policy says for each one alone", () => {
    const shared = new PermissionPolicy(config);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...actions), fc.constantFrom(...targets)), { maxLength: 40 }),
        (checks) => {
          for (const [action, target] of checks) {
            const got = shared.evaluate(action, target);
            const fresh = new PermissionPolicy(config).evaluate(action, target);
            expect({ ...got, rule: got.rule?.index }).toEqual({ ...fresh, rule: fresh.rule?.index });
          }
        },
      ),
    );
  });

  it("a repeated check returns the same frozen evaluation; the two last targets of an outcome are kept", () => {
    const p = new PermissionPolicy(config);
    const a = p.evaluate("file_read", "/workspace/a.ts");
    expect(Object.isFrozen(a)).toBe(true);
    const b = p.evaluate("file_read", "/workspace/b.ts");
    expect(p.evaluate("file_read", "/workspace/a.ts")).toBe(a);
    expect(p.evaluate("file_read", "/workspace/b.ts")).toBe(b);
    expect(p.evaluate("nope", "x")).toBe(p.evaluate("nope", "x"));
    expect(p.evaluate("nope", "x")).not.toBe(p.evaluate("other", "x"));
  });

  it("keeps no oversized target alive for an action without a rule or a denying rule", () => {
    const p = new PermissionPolicy(config);
    const huge = "x".repeat(100_000);
    const first = p.evaluate("data_access", huge);
    expect(first.code).toBe("no_rule");
    expect(p.evaluate("data_access", huge)).not.toBe(first);
    expect(p.evaluate("shell", huge)).not.toBe(p.evaluate("shell", huge));
  });

  it("refuses a target normalisation makes longer than MAX_TARGET_LENGTH, in check, evaluate and explain alike, and keeps none", () => {
    const p = new PermissionPolicy(config);
    const kept = p.evaluate("network", "https://api.example.com/v1");
    // 8 024 characters as written; percent-encoded, "é" is "%C3%A9": 48 024.
    const raw = `https://api.example.com/${"é".repeat(8000)}`;
    expect(raw.length).toBeLessThanOrEqual(MAX_TARGET_LENGTH);
    const e = p.evaluate("network", raw);
    expect(e).toMatchObject({ type: "deny", code: "invalid_target" });
    expect(e.reason).toMatch(new RegExp(`longer than ${MAX_TARGET_LENGTH} characters once normalised`));
    expect(e.target).toBeUndefined();
    expect(p.check("network", raw)).toBe("deny");
    expect(p.explain("network", raw)).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(p.evaluate("network", raw)).not.toBe(e);
    expect(p.evaluate("network", "https://api.example.com/v1")).toBe(kept);
  });

  it("every evaluation's target is at most MAX_TARGET_LENGTH, and check agrees with it (invariant)", () => {
    const p = new PermissionPolicy(config);
    const piece = fc.constantFrom("a", "é", "✓", "😀", "%41", "/", "../", " ");
    fc.assert(
      fc.property(
        fc.constantFrom("network", "file_read", "tool_use"),
        fc.constantFrom("https://api.example.com/", "/workspace/", "wire_"),
        piece,
        fc.integer({ min: 0, max: MAX_TARGET_LENGTH }),
        (action, head, unit, n) => {
          const target = (head + unit.repeat(Math.ceil(n / unit.length))).slice(0, MAX_TARGET_LENGTH);
          const e = p.evaluate(action, target);
          expect(e.target?.length ?? 0).toBeLessThanOrEqual(MAX_TARGET_LENGTH);
          expect(p.check(action, target)).toBe(e.type);
        },
      ),
      { numRuns: 200 },
    );
  });
});
