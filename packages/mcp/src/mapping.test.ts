import { PermissionPolicy } from "@agentgate/core";
import { describe, expect, it } from "vitest";
import { MappingValidationError } from "./mapping-error.js";
import { deniesEveryCall, parseMapping, toToolMapping, validateMapping } from "./mapping.js";

describe("parseMapping", () => {
  it("reads the flat form and the `tools:` form", () => {
    const flat = parseMapping(
      "write_file: { action: file_write, target: path }\nfetch: { action: network, target: url }\nping: { action: network }\n",
    );
    expect(flat).toEqual({
      write_file: { action: "file_write", target: "path" },
      fetch: { action: "network", target: "url" },
      ping: { action: "network" },
    });
    expect(parseMapping("tools:\n  fetch: { action: network, target: url }\n")).toEqual({
      fetch: { action: "network", target: "url" },
    });
    expect(parseMapping("")).toEqual({});
  });

  it("lists every problem with its line", () => {
    const text = "a:\n  action: file_read\n  target: 3\nb: nope\nc:\n  action: ''\n  extra: 1\n";
    const error = (() => {
      try {
        parseMapping(text, "m.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(MappingValidationError.isInstance(error)).toBe(true);
    const issues = (error as MappingValidationError).issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    expect(issues).toEqual([
      "3: a.target: target must be the name of one of the tool's arguments",
      "4: b: must be { action, target? }",
      '7: c.extra: unknown key "extra" (allowed: action, target)',
      "6: c.action: action must be a non-empty string, e.g. file_write",
    ]);
  });

  it("reports YAML syntax errors with their line, and duplicate keys", () => {
    expect(() => parseMapping("a: { action: x\n", "m.yaml")).toThrow(/line \d+: YAML syntax/);
    expect(() => parseMapping("a: { action: x }\na: { action: y }\n")).toThrow(/line 2: YAML syntax/);
  });

  it("is not fooled by a polluted prototype or a __proto__ key", () => {
    const m = validateMapping(
      JSON.parse('{"__proto__": {"action": "shell"}, "ok": {"action": "file_read", "target": "p"}}'),
    );
    expect(Object.getPrototypeOf(m)).toBe(null);
    expect(Object.keys(m)).toEqual(["__proto__", "ok"]);
    expect(() => validateMapping([])).toThrow(MappingValidationError);
  });
});

describe("toToolMapping", () => {
  const mapping = toToolMapping({ write_file: { action: "file_write", target: "path" }, ping: { action: "network" } });
  it("takes the target from the named argument, own properties only", () => {
    expect(mapping.write_file!.target!({ path: "/a" })).toBe("/a");
    expect(() => mapping.write_file!.target!({})).toThrow('argument "path" must be a string, got nothing');
    expect(() => mapping.write_file!.target!({ path: 1 })).toThrow("got number");
    expect(() => mapping.write_file!.target!(Object.create({ path: "/inherited" }))).toThrow("got nothing");
    expect(mapping.ping).toEqual({ action: "network" });
  });
});

describe("deniesEveryCall", () => {
  const policy = PermissionPolicy.parse(`name: t
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [echo]
  - action: file_read
    allowed: true
    allowed_targets: ["/srv/**"]
  - action: shell
    allowed: false
`);
  const mapping = {
    read: { action: "file_read", target: "path" },
    run: { action: "shell", target: "cmd" },
    send: { action: "email", target: "to" },
  };
  it("hides unmapped tools denied by name and mapped tools whose action is never allowed", () => {
    expect(deniesEveryCall(policy, "echo", mapping)).toBe(false);
    expect(deniesEveryCall(policy, "get-env", mapping)).toBe(true);
    expect(deniesEveryCall(policy, "read", mapping)).toBe(false);
    expect(deniesEveryCall(policy, "run", mapping)).toBe(true);
    expect(deniesEveryCall(policy, "send", mapping)).toBe(true);
    expect(deniesEveryCall(policy, "__proto__", mapping)).toBe(true);
  });
});
