import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  writeFileSync(join(dir, "policy.yaml"), POLICY);
});
afterEach(() => cleanup());

const POLICY = `name: check-test
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [search, "deploy-*"]
    escalate_targets: ["deploy-*"]
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ["**/.env"]
  - action: llm_call
    allowed: true
    max_per_minute: 3
  - action: data_access
    allowed: true
    escalate_after: 2
    deny_after: 4
  - action: shell
    allowed: false
    description: never
`;

const check = (...args: string[]) => runCli(["check", "policy.yaml", ...args], { cwd: dir });

describe("agentgate check", () => {
  it("ALLOW: names the rule and the pattern, exit 0", async () => {
    const r = await check("tool_use", "search");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ALLOW {2}tool_use search\n/);
    expect(r.stdout).toMatch(/why +rule "tool_use" allows target "search"/);
    expect(r.stdout).toMatch(/rule +rules\[0\]/);
    expect(r.stdout).toMatch(/fired +allowed_targets: "search"/);
  });

  it("DENY from a denied list: names the list and the pattern that fired, exit 1", async () => {
    const r = await check("file_read", "/workspace/app/.env", "--json");
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({
      policy: "check-test",
      decision: "deny",
      code: "denied_target",
      ruleIndex: 1,
      fired: "denied_targets",
      pattern: "**/.env",
      target: "/workspace/app/.env",
    });
  });

  it("shows the normalised target: a .. escape never matches the workspace", async () => {
    const r = await check("file_read", "/workspace/../etc/passwd");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("(as /etc/passwd)");
    expect(r.stdout).toMatch(/fired +allowed_targets/);
    expect(r.stdout).toMatch(/code +target_not_allowed/);
  });

  it("ESCALATE is exit 1 and names escalate_targets", async () => {
    const r = await check("tool_use", "deploy-prod", "--args", '{"env":"prod"}', "--json");
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ decision: "escalate", code: "escalate_target", pattern: "deploy-*" });
  });

  it("no rule and allowed: false both deny and say why", async () => {
    const none = await check("send_email", "--json");
    expect(json(none)).toMatchObject({ decision: "deny", code: "no_rule" });
    expect(json(none).ruleIndex).toBeUndefined();
    const shell = await check("shell", "ls");
    expect(shell.stdout).toMatch(/fired +allowed: false/);
    expect(shell.stdout).toContain("(never)");
  });

  it("--uses runs prior uses through a real gate: rate limits and thresholds fire", async () => {
    const under = json(await check("llm_call", "--uses", "2", "--json"));
    expect(under).toMatchObject({ decision: "allow", uses: 2, primed: 2 });
    const over = await check("llm_call", "--uses", "3");
    expect(over.code).toBe(1);
    expect(over.stdout).toMatch(/^DENY {2}llm_call after 3 uses/);
    expect(over.stdout).toMatch(/fired +max_per_minute: 3/);
    expect(over.stdout).toContain("max_per_minute limit of 3 reached");

    expect(json(await check("data_access", "t", "--uses", "1", "--json"))).toMatchObject({ decision: "allow" });
    expect(json(await check("data_access", "t", "--uses", "2", "--json"))).toMatchObject({
      decision: "escalate",
      code: "escalate_after",
      fired: "escalate_after",
    });
    // escalations in the run-up are approved, so they count as allowed uses
    expect(json(await check("data_access", "t", "--uses", "4", "--json"))).toMatchObject({
      decision: "deny",
      code: "deny_after",
      primed: 4,
    });
    const beyond = await check("data_access", "t", "--uses", "9");
    expect(beyond.stdout).toContain("only 4 of the 9 prior uses were allowed");
  });

  it("bad input: non-JSON --args, a bad --uses, a missing or directory policy: one line, exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["check", "policy.yaml", "tool_use", "search", "--args", "{nope"], /--args must be JSON/],
      [["check", "policy.yaml", "llm_call", "--uses", "-1"], /--uses must be a whole number/],
      [["check", "policy.yaml", "llm_call", "--uses", "1.5"], /--uses must be a whole number/],
      [["check", "policy.yaml", "llm_call", "--uses", "9999999"], /--uses must be at most/],
      [["check", "missing.yaml", "llm_call"], /cannot read policy file missing\.yaml: no such file/],
      [["check", ".", "llm_call"], /cannot read policy file \.: it is a directory/],
      [["check", "policy.yaml", ""], /action must be a non-empty string/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir })));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });

  it("an invalid policy is a finding (exit 1): every problem on stderr with file and line", async () => {
    writeFileSync(join(dir, "bad.yaml"), "name: x\nrules:\n  - action: shell\n    allowed: maybe\n");
    const r = await runCli(["check", "bad.yaml", "shell"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'agentgate: invalid policy bad.yaml (1 problem)\n  bad.yaml:4: rules[0].allowed: must be true or false, got the string "maybe"\n',
    );
  });
});
