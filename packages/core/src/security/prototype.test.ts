import { afterEach, describe, expect, it } from "vitest";
import { PolicyValidationError } from "../errors.js";
import { normalizeApproval } from "../gate/approval.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";

const identity = await AgentIdentity.create("proto-bot");
const proto = Object.prototype as Record<string, unknown>;
const pollutionKeys = ["polluted", "allowed", "isAdmin", "approved", "approvedBy"];

/** Nothing in this file may leave Object.prototype changed. */
afterEach(() => {
  for (const k of pollutionKeys) expect(Object.prototype.hasOwnProperty.call(proto, k), k).toBe(false);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

function parseError(yaml: string): PolicyValidationError {
  try {
    PermissionPolicy.parse(yaml);
  } catch (e) {
    if (PolicyValidationError.isInstance(e)) return e;
    throw e;
  }
  throw new Error("expected a PolicyValidationError");
}

describe("__proto__ and constructor keys in YAML are reported, never followed", () => {
  it("at the top level, in a rule and inside flow mappings", () => {
    const cases = [
      "name: p\n__proto__:\n  polluted: true\nrules: []\n",
      "name: p\nconstructor:\n  prototype:\n    polluted: true\nrules: []\n",
      "name: p\nrules:\n  - action: shell\n    __proto__: { allowed: true }\n",
      "name: p\nrules:\n  - { action: shell, constructor: { prototype: { allowed: true } } }\n",
      '{"name": "p", "rules": [{"action": "shell", "__proto__": {"allowed": true}}]}\n',
      "name: p\nrules:\n  - action: shell\n    prototype: { allowed: true }\n",
      "name: p\nrules:\n  - action: shell\n    <<: { allowed: true }\n",
    ];
    for (const yaml of cases) {
      const error = parseError(yaml);
      expect(
        error.issues.some((i) => /unknown key "(__proto__|constructor|prototype|<<)"/.test(i.message)),
        yaml,
      ).toBe(true);
      expect(error.issues.every((i) => i.line !== undefined)).toBe(true);
    }
  });

  it("a merge key under YAML 1.1 cannot smuggle allowed: true into a rule", () => {
    const error = parseError(
      "%YAML 1.1\n---\nbase: &b { allowed: true }\nname: p\nrules:\n  - action: shell\n    <<: *b\n",
    );
    expect(error.issues.length).toBeGreaterThan(0);
  });

  it("JSON and object configs with __proto__ keys are refused too", () => {
    expect(() => new PermissionPolicy(JSON.parse('{"name":"p","rules":[],"__proto__":{"polluted":true}}'))).toThrow(
      /unknown key "__proto__"/,
    );
    expect(
      () => new PermissionPolicy(JSON.parse('{"name":"p","rules":[{"action":"shell","__proto__":{"allowed":true}}]}')),
    ).toThrow(/unknown key "__proto__"/);
  });

  it("inherited rule fields are ignored: only own fields grant anything", () => {
    const rule = Object.assign(Object.create({ allowed: true, allowedTargets: ["**"] }), { action: "shell" });
    const policy = new PermissionPolicy({ name: "p", rules: [rule] });
    expect(policy.check("shell", "rm -rf /")).toBe("deny");
    const config = Object.assign(Object.create({ rules: [{ action: "shell", allowed: true }] }), { name: "p" });
    expect(new PermissionPolicy(config).check("shell")).toBe("deny");
  });
});

describe("__proto__ and constructor as actions, tool names, targets and arguments", () => {
  it("are ordinary strings: denied without a rule, matched exactly with one", async () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [
        { action: "tool_use", allowed: true, allowedTargets: ["search"] },
        { action: "constructor", allowed: true },
      ],
    });
    const gate = new GateKeeper({ identity, policy });
    for (const a of ["__proto__", "toString", "hasOwnProperty", "prototype", "valueOf"]) {
      expect((await gate.check(a)).code).toBe("no_rule");
      expect(policy.getRule(a)).toBeUndefined();
    }
    expect((await gate.check("constructor")).type).toBe("allow");
    for (const t of ["__proto__", "constructor", "toString"]) {
      expect((await gate.checkToolCall({ toolName: t, input: {} })).code).toBe("target_not_allowed");
      // A mapping object that has no own entry for the name: not mapped.
      expect(
        (await gate.checkToolCall({ toolName: t, input: {}, mapping: { search: { action: "tool_use" } } })).target,
      ).toBe(t);
    }
  });

  it("arguments with __proto__ keys are fingerprinted and shown to approvers as data", async () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [{ action: "tool_use", allowed: true, requireApproval: true }],
    });
    let seen: unknown;
    const gate = new GateKeeper({
      identity,
      policy,
      approvalHandler: (r) => {
        seen = r.args;
        return { approved: true, approvedBy: "alice" };
      },
    });
    const evil = JSON.parse(
      '{"q": 1, "__proto__": {"isAdmin": true, "polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    );
    expect((await gate.checkToolCall({ toolName: "deploy", input: evil, callId: "p1" })).type).toBe("allow");
    expect(Object.prototype.hasOwnProperty.call(seen, "__proto__")).toBe(true);
    expect((seen as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    // The same call without the __proto__ key is another input.
    const plain = { q: 1, constructor: { prototype: { polluted: true } } };
    expect((await gate.checkToolCall({ toolName: "deploy", input: plain, callId: "p1" })).code).toBe("call_mismatch");
    const [pending] = await new GateKeeper({ identity, policy })
      .checkToolCall({ toolName: "deploy", input: evil, callId: "p2" })
      .then(async (d) => [d]);
    expect(pending!.type).toBe("escalate");
  });

  it("an approval answer's __proto__ is not its own approved", () => {
    expect(normalizeApproval(JSON.parse('{"__proto__": {"approved": true, "approvedBy": "root"}}'))).toEqual({
      approved: false,
      valid: false,
    });
  });
});

describe("a polluted Object.prototype (a gadget from another library) cannot open the gate", () => {
  const withPollution = async (fields: Record<string, unknown>, run: () => Promise<void> | void) => {
    try {
      Object.assign(proto, fields);
      await run();
    } finally {
      for (const k of Object.keys(fields)) delete proto[k];
    }
  };

  it("allowed / requireApproval / allowedTargets inherited by rules", async () => {
    await withPollution({ allowed: true, allowedTargets: undefined }, () => {
      const policy = new PermissionPolicy({
        name: "p",
        rules: [{ action: "shell" }, { action: "tool_use", allowed: true, allowedTargets: ["search"] }],
      });
      expect(policy.check("shell")).toBe("deny");
      expect(policy.check("tool_use", "rm_rf")).toBe("deny");
      expect(PermissionPolicy.parse("name: p\nrules:\n  - action: shell\n").check("shell")).toBe("deny");
    });
  });

  it("approvalHandler, store or clock inherited by gate options", async () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [{ action: "tool_use", allowed: true, requireApproval: true }],
    });
    await withPollution({ approvalHandler: () => ({ approved: true, approvedBy: "mallory" }) }, async () => {
      const gate = new GateKeeper({ identity, policy });
      expect(gate.hasApprovalHandler).toBe(false);
      expect((await gate.check("tool_use", "deploy")).type).toBe("escalate");
    });
  });

  it("mapping, target functions and check options inherited by calls", async () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [
        { action: "tool_use", allowed: true, allowedTargets: ["search"] },
        { action: "llm_call", allowed: true },
        { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
      ],
    });
    const gate = new GateKeeper({ identity, policy });
    await withPollution({ mapping: { rm_rf: { action: "llm_call" } } }, async () => {
      expect((await gate.checkToolCall({ toolName: "rm_rf", input: {} })).type).toBe("deny");
    });
    await withPollution({ target: () => "/workspace/ok" }, async () => {
      // The mapping forgot its target function: no target, so allowed_targets denies.
      const d = await gate.checkToolCall({
        toolName: "readFile",
        input: { path: "/etc/passwd" },
        mapping: { readFile: { action: "file_read" } },
      });
      expect(d).toMatchObject({ type: "deny", code: "target_required" });
    });
    await withPollution({ target: "search" }, async () => {
      expect((await gate.check("tool_use", {})).code).toBe("target_required");
    });
  });
});
