import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Action } from "../action.js";
import { PolicyValidationError } from "../errors.js";
import { PermissionPolicy } from "./permission-policy.js";
import type { ActionRule } from "./rule.js";

const policy = new PermissionPolicy({
  name: "test",
  rules: [
    {
      action: Action.TOOL_USE,
      allowed: true,
      allowedTargets: ["search", "deploy"],
      escalateTargets: ["deploy", "wire_*"],
    },
    { action: Action.LLM_CALL, allowed: true, maxPerMinute: 10 },
    { action: Action.FILE_READ, allowed: true, allowedTargets: ["/workspace/**"], deniedTargets: ["**/.env"] },
    { action: Action.FILE_WRITE, allowed: true, requireApproval: true },
    { action: Action.NETWORK, allowed: true, allowedTargets: ["https://api.example.com/**"] },
    { action: Action.SHELL, allowed: false, description: "no shell" },
  ],
});

describe("PermissionPolicy.check", () => {
  it("follows the order of evaluation", () => {
    expect(policy.check("tool_use", "search")).toBe("allow");
    expect(policy.check("tool_use", "rm")).toBe("deny");
    expect(policy.check("tool_use")).toBe("deny"); // allowed_targets set: target required
    expect(policy.check("tool_use", "deploy")).toBe("escalate");
    expect(policy.check("tool_use", "wire_money")).toBe("escalate"); // escalate targets are allowed with approval
    expect(policy.check("llm_call")).toBe("allow"); // static verdict ignores counters
    expect(policy.check("shell")).toBe("deny");
    expect(policy.check("file_write", "/x")).toBe("escalate");
    expect(policy.check("data_access", "db")).toBe("deny"); // no rule
    expect(policy.check("custom_action")).toBe("deny");
  });

  it("normalises file targets before matching", () => {
    expect(policy.check("file_read", "/workspace/a/b.txt")).toBe("allow");
    expect(policy.check("file_read", "/workspace/../etc/passwd")).toBe("deny");
    expect(policy.check("file_read", "/workspace//x/./y")).toBe("allow");
    expect(policy.check("file_read", "/workspace/app/.env")).toBe("deny");
    expect(policy.check("file_read", "/workspace/app/x/../.env")).toBe("deny");
    expect(policy.check("file_read", "/workspace/a\0b")).toBe("deny");
  });

  it("parses network targets as URLs", () => {
    expect(policy.check("network", "https://api.example.com/v1")).toBe("allow");
    expect(policy.check("network", "HTTPS://API.EXAMPLE.COM:443/v1")).toBe("allow");
    expect(policy.check("network", "https://api.example.com@evil.test/")).toBe("deny");
    expect(policy.check("network", "https://api.example.com.evil.test/")).toBe("deny");
    expect(policy.check("network", "not a url")).toBe("deny");
  });

  it("rejects invalid arguments with TypeError", () => {
    expect(() => policy.check("", "x")).toThrow(TypeError);
    expect(() => policy.check("tool_use", 3 as unknown as string)).toThrow(TypeError);
    expect(() => policy.check(undefined as unknown as string)).toThrow(TypeError);
  });

  it("agrees with explain on every request", () => {
    const actions = fc.constantFrom("tool_use", "llm_call", "file_read", "file_write", "network", "shell", "other");
    const targets = fc.option(
      fc.constantFrom(
        "search",
        "deploy",
        "wire_x",
        "/workspace/a",
        "/workspace/../x",
        "/workspace/.env",
        "https://api.example.com/a",
        "x",
      ),
      { nil: undefined },
    );
    fc.assert(
      fc.property(actions, targets, (a, t) => {
        expect(policy.explain(a, t).decision).toBe(policy.check(a, t));
      }),
    );
  });
});

describe("PermissionPolicy.explain", () => {
  it("names the rule, the list and the pattern that fired", () => {
    const e = policy.explain("file_read", "/workspace/app/.env");
    expect(e).toMatchObject({
      decision: "deny",
      code: "denied_target",
      pattern: "**/.env",
      ruleIndex: 2,
      target: "/workspace/app/.env",
    });
    expect(e.reason).toContain('rule "file_read"');
    expect(e.reason).toContain("denied_targets");
    expect(policy.explain("shell").reason).toContain("no shell");
    expect(policy.explain("nothing").code).toBe("no_rule");
    expect(policy.explain("file_read", "/workspace/a").pattern).toBe("/workspace/**");
    expect(policy.explain("tool_use", "deploy")).toMatchObject({ code: "escalate_target", pattern: "deploy" });
    expect(policy.explain("tool_use")).toMatchObject({ code: "target_required" });
  });
});

describe("validation", () => {
  it("lists every problem with its path", () => {
    let error: unknown;
    try {
      new PermissionPolicy({
        name: "",
        rules: [
          { action: "tool_use", allowed: true, maxPerMinute: -1 },
          { action: "llm_call", escalateAfter: 1.5 },
          { action: "tool_use" },
          { action: "file_read", allowedTargets: ["{a"] },
          { action: "x", max_per_minute: 3 } as unknown as ActionRule,
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(PolicyValidationError.isInstance(error)).toBe(true);
    const issues = (error as PolicyValidationError).issues.map((i) => i.path);
    expect(issues).toEqual([
      "name",
      "rules[0].maxPerMinute",
      "rules[1].escalateAfter",
      "rules[2].action",
      "rules[3].allowedTargets[0]",
      "rules[4].max_per_minute",
    ]);
    expect((error as PolicyValidationError).issues[5]!.message).toContain("maxPerMinute");
    expect((error as Error).message).toContain("rules[0].maxPerMinute");
  });

  it("rejects non-objects and wrong types", () => {
    expect(() => new PermissionPolicy(null as never)).toThrow(PolicyValidationError);
    expect(() => new PermissionPolicy({ name: "x", rules: "nope" as never })).toThrow(/must be a list/);
    expect(() => new PermissionPolicy({ name: "x", rules: [{ action: "a", allowed: "yes" as never }] })).toThrow(
      /true or false/,
    );
  });

  it("freezes rules so a loaded policy cannot be changed", () => {
    const p = new PermissionPolicy({ name: "x", rules: [{ action: "a", allowed: true, allowedTargets: ["t"] }] });
    expect(Object.isFrozen(p.getRule("a"))).toBe(true);
    expect(Object.isFrozen(p.getRule("a")!.allowedTargets)).toBe(true);
    expect(p.getRule("b")).toBeUndefined();
  });
});

describe("files", () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-policy-"));

  it("fromYaml reads a file and toYaml writes one", () => {
    const file = join(dir, "p.yaml");
    writeFileSync(file, "# top comment\nname: files\nrules:\n  - action: shell # never\n    allowed: false\n");
    const p = PermissionPolicy.fromYaml(file);
    expect(p.check("shell")).toBe("deny");
    const out = join(dir, "out.yaml");
    expect(p.toYaml(out)).toBe(readFileSync(out, "utf8"));
    expect(readFileSync(out, "utf8")).toContain("# never");
  });

  it("names the file when it is missing, a directory or invalid", () => {
    expect(() => PermissionPolicy.fromYaml(join(dir, "missing.yaml"))).toThrow(/missing\.yaml: no such file/);
    mkdirSync(join(dir, "d.yaml"));
    expect(() => PermissionPolicy.fromYaml(join(dir, "d.yaml"))).toThrow(/directory/);
    writeFileSync(join(dir, "bad.yaml"), "name: x\nrules:\n  - action: a\n    deny_after: -2\n");
    try {
      PermissionPolicy.fromYaml(join(dir, "bad.yaml"));
      expect.unreachable();
    } catch (e) {
      expect((e as PolicyValidationError).source).toContain("bad.yaml");
      expect((e as PolicyValidationError).issues[0]).toEqual({
        path: "rules[0].deny_after",
        message: expect.any(String),
        line: 4,
      });
    }
  });
});

describe("CompiledRule.hasCounter (issue 13: was `limited`)", () => {
  it("is true exactly for rules with max_per_minute, deny_after or escalate_after; `limited` is its deprecated alias", () => {
    const p = new PermissionPolicy({
      name: "counters",
      rules: [
        { action: "a", allowed: true, maxPerMinute: 1 },
        { action: "b", allowed: true, denyAfter: 3 },
        { action: "c", allowed: true, escalateAfter: 2 },
        { action: "d", allowed: true, requireApproval: true },
      ],
    });
    for (const [action, counted] of [
      ["a", true],
      ["b", true],
      ["c", true],
      ["d", false],
    ] as const) {
      const rule = p.compiledRule(action)!;
      expect(rule.hasCounter).toBe(counted);
      expect(rule.limited).toBe(counted);
    }
  });
});
