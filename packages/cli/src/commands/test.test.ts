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

const POLICY = `name: unit
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [search, deploy]
    escalate_targets: [deploy]
  - action: llm_call
    allowed: true
    max_per_minute: 5
    escalate_after: 100
  - action: shell
    allowed: false
`;

const PASSING = `cases:
  - name: search is fine
    action: tool_use
    target: search
    expect: allow
  - name: deploy needs a human
    action: tool_use
    target: deploy
    args: { env: prod }
    expect: escalate
  - name: the sixth model call in a minute is refused
    action: llm_call
    uses: 5
    expect: deny
  - action: llm_call
    uses: 4
    expect: allow
`;

const test = (...args: string[]) => runCli(["test", "policy.yaml", ...args], { cwd: dir });

describe("agentgate test", () => {
  it("all cases pass: exit 0 and a summary", async () => {
    writeFileSync(join(dir, "cases.yaml"), PASSING);
    const r = await test("cases.yaml");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("PASS  search is fine");
    expect(r.stdout).toContain("PASS  the sixth model call in a minute is refused");
    expect(r.stdout).toContain("PASS  llm_call after 4 uses -> allow");
    expect(r.stdout).toContain("4 passed, 0 failed, 4 cases");
  });

  it("a failing case: exit 1, with the reason the policy gave", async () => {
    writeFileSync(
      join(dir, "cases.yaml"),
      "cases:\n  - name: deploy straight through\n    action: tool_use\n    target: deploy\n    expect: allow\n  - action: shell\n    target: ls\n    expect: deny\n",
    );
    const r = await test("cases.yaml");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL  deploy straight through");
    expect(r.stdout).toContain("expected ALLOW, got ESCALATE (escalate_target, rules[0])");
    expect(r.stdout).toContain('policy said: rule "tool_use": target "deploy" matches escalate_targets');
    expect(r.stdout).toContain("1 passed, 1 failed, 2 cases");

    const j = await test("cases.yaml", "--json");
    expect(j.code).toBe(1);
    expect(json(j)).toMatchObject({ ok: false, total: 2, passed: 1, failed: 1 });
    expect(json(j).results[0]).toMatchObject({
      pass: false,
      expect: "allow",
      actual: "escalate",
      code: "escalate_target",
      ruleIndex: 0,
    });
  });

  it("--coverage lists rules no case exercised and rule fields that never decided", async () => {
    writeFileSync(join(dir, "cases.yaml"), PASSING);
    const r = await test("cases.yaml", "--coverage");
    expect(r.code).toBe(0); // coverage informs; only failures fail
    expect(r.stdout).toContain("coverage: 2 of 3 rules exercised");
    expect(r.stdout).toMatch(/no case +rules\[2\] shell/);
    expect(r.stdout).toMatch(/never fired +rules\[1\] llm_call: escalate_after/);
    const j = json(await test("cases.yaml", "--coverage", "--json"));
    expect(j.coverage.uncovered).toEqual([2]);
    expect(j.coverage.rules[0]).toEqual({
      index: 0,
      action: "tool_use",
      cases: 2,
      fired: ["allowed_targets", "escalate_targets"],
      unexercised: [],
    });
    expect(j.coverage.rules[1]).toMatchObject({
      fired: ["max_per_minute", "allowed"],
      unexercised: ["escalate_after"],
    });
  });

  it("a bare list of cases works too", async () => {
    writeFileSync(join(dir, "cases.yaml"), "- { action: shell, expect: deny }\n");
    expect((await test("cases.yaml")).code).toBe(0);
  });

  it("a malformed cases file lists every problem, exit 2", async () => {
    writeFileSync(
      join(dir, "cases.yaml"),
      "cases:\n  - action: 3\n    expect: maybe\n    colour: red\n  - action: shell\n    uses: -2\n    expect: deny\n",
    );
    const r = await test("cases.yaml");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe("agentgate: invalid cases file cases.yaml (4 problems)");
    expect(r.stderr).toContain("cases.yaml: cases[0].colour: unknown key");
    expect(r.stderr).toContain("cases.yaml: cases[0].action: required, a non-empty string");
    expect(r.stderr).toContain("cases.yaml: cases[0].expect: required, one of allow, deny, escalate");
    expect(r.stderr).toContain("cases.yaml: cases[1].uses: must be a whole number");
  });

  it("unreadable YAML, a missing file, a directory, no cases: one line, exit 2", async () => {
    writeFileSync(join(dir, "broken.yaml"), "cases: [\n  - action: x\n");
    writeFileSync(join(dir, "empty.yaml"), "cases: []\n");
    writeFileSync(join(dir, "other.yaml"), "tests: []\n");
    const cases: [string, RegExp][] = [
      ["broken.yaml", /^agentgate: cannot parse broken\.yaml:\d+: YAML syntax: /],
      ["missing.yaml", /cannot read cases file missing\.yaml: no such file/],
      [".", /cannot read cases file \.: it is a directory/],
      ["empty.yaml", /"cases" is empty/],
      ["other.yaml", /unknown top-level key "tests"/],
    ];
    const results = await Promise.all(cases.map(([file]) => test(file)));
    for (const [i, [file, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, file).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});
