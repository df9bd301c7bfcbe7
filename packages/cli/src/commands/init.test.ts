import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Action, PermissionPolicy } from "@agentgate/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe("agentgate init", () => {
  it("writes a commented starter policy with a rule for every action kind, which validates", async () => {
    const r = await runCli(["init"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("policy.yaml");
    const text = readFileSync(join(dir, "policy.yaml"), "utf8");
    expect(text).toMatch(/^# /m);
    const policy = PermissionPolicy.parse(text);
    for (const action of Object.values(Action)) expect(policy.getRule(action), action).toBeDefined();
    // every rule field appears at least once, so the starter doubles as a reference
    for (const key of [
      "allowed_targets",
      "denied_targets",
      "escalate_targets",
      "require_approval",
      "max_per_minute",
      "escalate_after",
      "deny_after",
      "description",
    ]) {
      expect(text).toMatch(new RegExp(`^\\s+${key}:`, "m"));
    }
    const v = await runCli(["validate", "policy.yaml"], { cwd: dir });
    expect(v.code).toBe(0);
  });

  it("refuses to overwrite an existing file without --force (exit 2), and overwrites with it", async () => {
    const file = join(dir, "mine.yaml");
    writeFileSync(file, "keep me\n");
    const r = await runCli(["init", file]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("--force");
    expect(readFileSync(file, "utf8")).toBe("keep me\n");

    const f = await runCli(["init", file, "--force", "--json"]);
    expect(f.code).toBe(0);
    expect(json(f)).toMatchObject({ ok: true, file, policy: "starter-policy", rules: 7, overwritten: true });
    expect(readFileSync(file, "utf8")).toContain("rules:");
  });

  it("writes policy.yaml inside a folder it is given", async () => {
    mkdirSync(join(dir, "conf"));
    const r = await runCli(["init", "conf", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(json(r).file).toBe(join("conf", "policy.yaml"));
    expect(readFileSync(join(dir, "conf", "policy.yaml"), "utf8")).toContain("name: starter-policy");
  });

  it("reports a folder that does not exist as one line, exit 2", async () => {
    const r = await runCli(["init", join(dir, "nope", "policy.yaml")]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("its folder does not exist");
  });
});
