import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDED_POLICY, writeAuditFixture, type AuditFixture } from "../test-utils/audit-fixture.js";
import { isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
let fx: AuditFixture;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  fx = await writeAuditFixture(dir);
  writeFileSync(join(dir, "same.yaml"), RECORDED_POLICY);
  writeFileSync(join(dir, "looser.yaml"), LOOSER);
  writeFileSync(join(dir, "stricter.yaml"), STRICTER);
});
afterAll(() => cleanup());

/** Drops the .env deny list and search, stops escalating deploys, removes the rate limit, allows shell. */
const LOOSER = `name: ops-v2
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [deploy]
  - action: llm_call
    allowed: true
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
  - action: shell
    allowed: true
`;

/** Removes search, tightens the rate limit, limits file reads, drops the shell rule (still denied). */
const STRICTER = `name: ops-v3
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [deploy]
    escalate_targets: [deploy]
  - action: llm_call
    allowed: true
    max_per_minute: 1
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ["**/.env"]
    max_per_minute: 100
`;

describe("agentgate replay", () => {
  it("the recorded policy itself: no change, exit 0", async () => {
    const r = await runCli(["replay", "same.yaml", fx.file], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no change: 8 unchanged");
    expect(r.stdout).toContain("limit-driven: 1 decision came from counters (rate_limit 1)");
    expect(r.stdout).toContain("OK: nothing would become ALLOW that was not");
  });

  it("a looser policy: lists what would change with counts, exit 1 because things become ALLOW", async () => {
    const r = await runCli(["replay", "looser.yaml", fx.file], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("replayed 9 decisions of 10 in");
    expect(r.stdout).toContain("5 decisions would change, 4 unchanged");
    expect(r.stdout).toMatch(/deny -> allow +3/);
    expect(r.stdout).toMatch(/escalate -> allow +1/);
    expect(r.stdout).toMatch(/allow -> deny +1/);
    expect(r.stdout).toContain("FAIL: 4 decisions would become ALLOW that were not");

    const j = json(await runCli(["replay", "looser.yaml", fx.file, "--json"], { cwd: dir }));
    expect(j).toMatchObject({
      ok: false,
      policy: "ops-v2",
      total: 10,
      replayed: 9,
      changed: 5,
      newlyAllowed: 4,
      settlements: 1,
      recordedPolicies: ["ops-v1"],
    });
    expect(j.transitions).toEqual({ "allow->deny": 1, "deny->allow": 3, "escalate->allow": 1 });
    const byTarget = Object.fromEntries(
      j.changes.map((c: any) => [`${c.action} ${c.target ?? "-"}`, `${c.from}->${c.to} ${c.basis}`]),
    );
    expect(byTarget).toEqual({
      "tool_use search": "allow->deny static",
      "shell ls": "deny->allow static",
      "tool_use deploy": "escalate->allow static",
      // the rate limit is gone, so no counter can refuse it: decided without counters
      "llm_call -": "deny->allow limit",
      "file_read /workspace/app/.env": "deny->allow static",
    });
    expect(j.limitDriven).toEqual([]);
  });

  it("a stricter policy: exit 0; rate-limited decisions are reported separately, not recounted", async () => {
    const r = await runCli(["replay", "stricter.yaml", fx.file], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 decision would change, 7 unchanged");
    expect(r.stdout).toMatch(/allow -> deny +1/);
    expect(r.stdout).toContain("limit-driven: 1 decision came from counters (rate_limit 1); not replayed");
    expect(r.stdout).toMatch(/\tllm_call\t-\tDENY \(rate_limit\)\tALLOW, max_per_minute 1/);
    expect(r.stdout).toContain("3 allowed decisions now fall under a limit");
    const j = json(await runCli(["replay", "stricter.yaml", fx.file, "--json"], { cwd: dir }));
    expect(j).toMatchObject({ ok: true, newlyAllowed: 0, nowLimited: 3 });
    expect(j.limitDriven).toEqual([
      expect.objectContaining({
        action: "llm_call",
        recorded: "deny",
        recordedCode: "rate_limit",
        staticVerdict: "allow",
        limits: { max_per_minute: 1 },
      }),
    ]);
  });

  it("bad input: invalid policy is exit 1 with its problems; a missing log or policy, a directory: exit 2", async () => {
    writeFileSync(join(dir, "bad.yaml"), "name: x\nrules:\n  - action: shell\n    allowed: perhaps\n");
    const bad = await runCli(["replay", "bad.yaml", fx.file], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.yaml:4: rules[0].allowed");
    const cases: [string[], RegExp][] = [
      [["replay", "same.yaml", "missing.jsonl"], /cannot read audit log missing\.jsonl: no such file/],
      [["replay", "missing.yaml", fx.file], /cannot read policy file missing\.yaml: no such file/],
      [["replay", "same.yaml", "."], /cannot read audit log \.: it is a directory/],
      [["replay", "same.yaml", "same.yaml"], /not an AgentGate audit log/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir })));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});
