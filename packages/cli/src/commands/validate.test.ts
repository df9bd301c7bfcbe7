import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const EXAMPLE = new URL("../../../../examples/policy.yaml", import.meta.url).pathname;

const INVALID = `name: ""
rules:
  - action: tool_use
    allowed: yes please
    max_per_minute: -1
  - action: tool_use
    bogus: 1
`;

describe("agentgate validate", () => {
  it("accepts the shared example policy (exit 0)", async () => {
    const r = await runCli(["validate", EXAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid {2}.*policy "ops-assistant", 6 rules/);
    expect(r.stderr).toBe("");
    const j = json(await runCli(["validate", EXAMPLE, "--json"]));
    expect(j).toMatchObject({ ok: true, policy: "ops-assistant" });
    expect(j.rules.map((r: { action: string }) => r.action)).toEqual([
      "tool_use",
      "llm_call",
      "file_read",
      "file_write",
      "network",
      "shell",
    ]);
  });

  it("lists every problem with its YAML line and path, exit 1", async () => {
    writeFileSync(join(dir, "bad.yaml"), INVALID);
    const r = await runCli(["validate", "bad.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("invalid  bad.yaml: 5 problems");
    expect(r.stdout).toContain("bad.yaml:1: name: must be a non-empty string");
    expect(r.stdout).toContain("bad.yaml:4: rules[0].allowed:");
    expect(r.stdout).toContain("bad.yaml:5: rules[0].max_per_minute:");
    expect(r.stdout).toContain("bad.yaml:7: rules[1].bogus: unknown key");
    expect(r.stdout).toMatch(/bad\.yaml:6: rules\[1\]\.action: duplicate rule/);

    const j = await runCli(["validate", "bad.yaml", "--json"], { cwd: dir });
    expect(j.code).toBe(1);
    expect(json(j)).toMatchObject({ ok: false, file: "bad.yaml" });
    expect(json(j).issues).toContainEqual({ path: "rules[0].max_per_minute", message: expect.any(String), line: 5 });
  });

  it("reports YAML syntax errors with their line, exit 1", async () => {
    writeFileSync(join(dir, "syntax.yaml"), "name: x\nrules: [\n");
    const r = await runCli(["validate", "syntax.yaml", "--json"], { cwd: dir });
    expect(r.code).toBe(1);
    const [issue] = json(r).issues;
    expect(issue.message).toMatch(/^YAML syntax: /);
    expect(issue.line).toBeGreaterThan(0);
  });

  it("a missing file or a directory is one clear line on stderr, exit 2", async () => {
    mkdirSync(join(dir, "folder"));
    for (const [arg, why] of [
      ["missing.yaml", "no such file"],
      ["folder", "it is a directory"],
    ] as const) {
      const r = await runCli(["validate", arg], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toContain(`cannot read policy file ${arg}: ${why}`);
    }
  });

  it("with --json, a usage error is also JSON on stdout", async () => {
    const r = await runCli(["validate", "missing.yaml", "--json"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({
      ok: false,
      error: { kind: "usage", message: "cannot read policy file missing.yaml: no such file" },
    });
  });
});
