import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { JsonlAuditSink } from "@agentgate/core/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir, type CliResult } from "../test-utils/run-cli.js";

// Model-written strings that try to drive the terminal: erase the line and draw a fake row,
// write the clipboard (OSC 52), an 8-bit CSI (C1 U+009B), DEL, a bare CR, a bidi override.
const ERASE = "\u001b[2K\r2025-01-01 00:00:00Z  bot  ALLOW  shell  rm -rf /";
const OSC52 = "x\u001b]52;c;cm0gLXJmIC8=\u0007y";
const C1 = "a\u009b2Kb\u009d0;title\u009c";
const MISC = "del\u007f cr\rbidi\u202eevil nul\u0000";
const HOSTILE = [ERASE, OSC52, C1, MISC];

/** Control characters a terminal acts on; the CLI may only print \n and \t (and, with colour, its own SGR codes). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function assertSafe(r: CliResult, color = false): void {
  for (const text of [r.stdout, r.stderr]) {
    // Colour codes are plain SGR (ESC [ digits m) and nothing else.
    const rest = color ? text.replace(/\u001b\[[0-9;]*m/g, "") : text;
    expect(rest, JSON.stringify(text)).not.toMatch(RAW_CONTROL);
  }
}

let dir: string;
let cleanup: () => void;
let log: string;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  log = join(dir, "hostile.jsonl");
  const policy = new PermissionPolicy({
    name: "p",
    rules: [{ action: "tool_use", allowed: true, allowedTargets: ["search"] }],
  });
  const sink = new JsonlAuditSink(log, { fsync: false });
  const gate = new GateKeeper({ identity: await AgentIdentity.create(`bot${OSC52}`), policy, auditSinks: [sink] });
  for (const target of HOSTILE) await gate.check("tool_use", target);
  await gate.close();
  writeFileSync(join(dir, "policy.yaml"), "name: open\nrules:\n  - action: tool_use\n    allowed: true\n");
});
afterAll(() => cleanup());

describe("control characters from model-written strings are escaped in every human-readable output", () => {
  it("audit show: plain and coloured", async () => {
    for (const env of [{}, { FORCE_COLOR: "1" }]) {
      const r = await runCli(["audit", "show", log], { env });
      expect(r.code).toBe(0);
      assertSafe(r, "FORCE_COLOR" in env);
      // Shown, escaped: a reader sees what the model wrote.
      expect(r.stdout).toContain("\\u001b[2K\\r2025-01-01 00:00:00Z");
      expect(r.stdout).toContain("x\\u001b]52;c;cm0gLXJmIC8=\\u0007y");
      expect(r.stdout).toContain("a\\u009b2Kb\\u009d0;title\\u009c");
      expect(r.stdout).toContain("del\\u007f cr\\rbidi\\u202eevil nul\\u0000");
      // One row per decision: nothing the model wrote starts a new line.
      expect(r.stdout.trimEnd().split("\n")).toHaveLength(1 + HOSTILE.length);
    }
  });

  it("audit show --json stays valid JSON with the exact strings, and no raw C1, DEL or bidi characters", async () => {
    const r = await runCli(["audit", "show", log, "--json"]);
    assertSafe(r);
    expect(JSON.parse(r.stdout).entries.map((e: { decision: { target: string } }) => e.decision.target)).toEqual(
      HOSTILE,
    );
  });

  it("replay", async () => {
    const r = await runCli(["replay", join(dir, "policy.yaml"), log], { env: { FORCE_COLOR: "1" } });
    expect(r.code).toBe(1); // the denied targets would now be allowed
    assertSafe(r, true);
    expect(r.stdout).toContain("x\\u001b]52;c;cm0gLXJmIC8=\\u0007y");
  });

  it("check", async () => {
    // A command line cannot hold NUL.
    for (const target of HOSTILE.map((t) => t.replace("\u0000", ""))) {
      const r = await runCli(["check", join(dir, "policy.yaml"), "tool_use", target], { env: { FORCE_COLOR: "1" } });
      expect(r.code).toBe(0);
      assertSafe(r, true);
    }
    const r = await runCli(["check", join(dir, "policy.yaml"), `tool${OSC52}`]);
    assertSafe(r);
    expect(r.stdout).toContain("\\u001b]52");
  });

  it("errors: file names, JSON arguments and unknown options", async () => {
    const runs = await Promise.all([
      runCli(["audit", "show", join(dir, `missing${ERASE}.jsonl`)]),
      runCli(["check", join(dir, "policy.yaml"), "tool_use", "x", "--args", `{"a":${JSON.stringify(C1)}`]),
      runCli(["validate", join(dir, `nope${C1}.yaml`)]),
      runCli(["audit", "show", log, `--evil${OSC52}`]),
      runCli(["audit", "show", log, "--json", "--since", `1${OSC52}`]),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(2);
      assertSafe(r);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    expect(runs[0]!.stderr).toContain("missing\\u001b[2K\\r2025");
  });
});
