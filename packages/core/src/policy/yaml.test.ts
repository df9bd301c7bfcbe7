import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PolicyValidationError } from "../errors.js";
import { PermissionPolicy } from "./permission-policy.js";
import type { ActionRule } from "./rule.js";

function issues(text: string) {
  try {
    PermissionPolicy.parse(text);
  } catch (e) {
    if (PolicyValidationError.isInstance(e)) return e.issues;
    throw e;
  }
  throw new Error("expected a PolicyValidationError");
}

describe("PermissionPolicy.parse", () => {
  it("reads snake_case YAML", () => {
    const p = PermissionPolicy.parse(`
name: ops
description: test
rules:
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ["**/.env"]
    max_per_minute: 5
    escalate_after: 3
    deny_after: 10
`);
    expect(p.getRule("file_read")).toEqual({
      action: "file_read",
      allowed: true,
      allowedTargets: ["/workspace/**"],
      deniedTargets: ["**/.env"],
      maxPerMinute: 5,
      escalateAfter: 3,
      denyAfter: 10,
    });
    expect(p.description).toBe("test");
  });

  it("reports the YAML line of each offending key or value", () => {
    const found = issues(`name: ops
rules:
  - action: tool_use
    allowed: yes-please
  - action: llm_call
    max_per_minute: 2.5
    maxPerMinute: 3
  - action: tool_use
  - action: net
    allowed_targets: ["{broken"]
`);
    expect(found).toEqual([
      { path: "rules[0].allowed", message: expect.stringContaining("true or false"), line: 4 },
      { path: "rules[1].max_per_minute", message: expect.stringContaining("whole number"), line: 6 },
      { path: "rules[1].maxPerMinute", message: expect.stringContaining('did you mean "max_per_minute"'), line: 7 },
      { path: "rules[2].action", message: expect.stringContaining("duplicate"), line: 8 },
      { path: "rules[3].allowed_targets[0]", message: expect.stringContaining("unclosed"), line: 10 },
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    const found = issues("name: ops\nrules:\n  - action: [unclosed\n");
    expect(found[0]!.message).toMatch(/YAML syntax/);
    expect(found[0]!.line).toBeGreaterThanOrEqual(3);
    expect(issues("name: a\nname: b\n")[0]!.message).toMatch(/YAML syntax/);
  });

  it("rejects a missing or empty name, and non-mapping documents", () => {
    expect(issues("rules: []")[0]).toMatchObject({ path: "name" });
    expect(issues("name: ''\nrules: []")[0]).toMatchObject({ path: "name", line: 1 });
    expect(issues("- a\n- b")[0]).toMatchObject({ path: "" });
    expect(issues("")[0]).toMatchObject({ path: "" });
  });

  it("never follows prototype keys", () => {
    const found = issues("name: x\n__proto__: { polluted: true }\nrules:\n  - action: a\n    constructor: 1\n");
    expect(found.map((i) => i.path)).toEqual(["__proto__", "rules[0].constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("resolves aliases but refuses alias bombs", () => {
    const p = PermissionPolicy.parse(
      "name: x\nrules:\n  - action: a\n    allowed: true\n    allowed_targets: &t [one, two]\n  - action: b\n    allowed: true\n    allowed_targets: *t\n",
    );
    expect(p.getRule("b")!.allowedTargets).toEqual(["one", "two"]);
    const bomb = ["name: x", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 6; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(", ")}]`,
      );
    bomb.push("rules: []");
    expect(() => PermissionPolicy.parse(bomb.join("\n"))).toThrow(PolicyValidationError);
  });
});

describe("stringify / toYaml", () => {
  it("keeps comments and key order of a loaded policy", () => {
    const text =
      "# Production policy\nname: prod # the name\nrules:\n  # shell is never allowed\n  - allowed: false\n    action: shell\n";
    expect(PermissionPolicy.parse(text).stringify()).toBe(text);
  });

  it("writes snake_case keys for a constructed policy", () => {
    const p = new PermissionPolicy({ name: "x", rules: [{ action: "llm_call", allowed: true, maxPerMinute: 3 }] });
    expect(p.stringify()).toBe("name: x\nrules:\n  - action: llm_call\n    allowed: true\n    max_per_minute: 3\n");
  });

  const glob = fc.constantFrom("a", "*.md", "/w/**", "{x,y}", "b?c", "#hash", "key: value", "- dash", "'q'");
  const count = fc.option(fc.nat({ max: 1000 }), { nil: undefined });
  const rule = fc.record(
    {
      action: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ""),
      allowed: fc.option(fc.boolean(), { nil: undefined }),
      allowedTargets: fc.option(fc.array(glob, { maxLength: 3 }), { nil: undefined }),
      deniedTargets: fc.option(fc.array(glob, { maxLength: 3 }), { nil: undefined }),
      escalateTargets: fc.option(fc.array(glob, { maxLength: 3 }), { nil: undefined }),
      requireApproval: fc.option(fc.boolean(), { nil: undefined }),
      maxPerMinute: count,
      escalateAfter: count,
      denyAfter: count,
      description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    },
    { requiredKeys: ["action"] },
  );

  it("parse(stringify(p)) equals p", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ""),
        fc.uniqueArray(rule, { selector: (r) => r.action, maxLength: 6 }),
        (name, rules) => {
          const clean = rules.map(
            (r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as ActionRule,
          );
          const p = new PermissionPolicy({ name, rules: clean });
          const again = PermissionPolicy.parse(p.stringify());
          expect(again.toJSON()).toEqual(p.toJSON());
        },
      ),
      { numRuns: 300 },
    );
  });
});
