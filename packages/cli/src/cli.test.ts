import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOneLineError, json, runCli, tempDir } from "./test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const ESC = "\u001b[";

describe("agentgate (the program)", () => {
  it("--help and --version exit 0; no command shows help on stderr, exit 2", async () => {
    const [help, version, none] = await Promise.all([runCli(["--help"]), runCli(["--version"]), runCli([])]);
    expect(help.code).toBe(0);
    for (const c of ["init", "validate", "check", "test", "audit", "replay", "keygen", "mcp"])
      expect(help.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: agentgate");
  });

  it("an unknown command or option, a missing or extra argument: one line on stderr, exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /^agentgate: unknown command 'frobnicate'/],
      [["valdate", "x.yaml"], /unknown command 'valdate'.*Did you mean validate\?/],
      [["validate", "x.yaml", "--bogus"], /unknown option '--bogus'/],
      [["check", "x.yaml"], /missing required argument 'action'/],
      [["validate", "a.yaml", "b.yaml"], /too many arguments/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir })));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });

  it("every command accepts --json", async () => {
    const help = await Promise.all(
      [["init"], ["validate"], ["check"], ["test"], ["audit", "verify"], ["audit", "show"], ["replay"], ["keygen"]].map(
        (c) => runCli([...c, "--help"]),
      ),
    );
    for (const h of help) expect(h.stdout).toContain("--json");
  });

  it("plain output when piped; colour with FORCE_COLOR, none with NO_COLOR even when forced", async () => {
    writeFileSync(join(dir, "p.yaml"), "name: p\nrules:\n  - action: shell\n    allowed: true\n");
    const args = ["check", "p.yaml", "shell"];
    const [plain, forced, off] = await Promise.all([
      runCli(args, { cwd: dir }),
      runCli(args, { cwd: dir, env: { FORCE_COLOR: "1" } }),
      runCli(args, { cwd: dir, env: { FORCE_COLOR: "1", NO_COLOR: "1" } }),
    ]);
    expect(plain.stdout).not.toContain(ESC);
    expect(forced.stdout).toContain(`${ESC}32m`); // green ALLOW
    expect(off.stdout).not.toContain(ESC);
    // --json is never coloured
    const j = await runCli([...args, "--json"], { cwd: dir, env: { FORCE_COLOR: "1" } });
    expect(j.stdout).not.toContain(ESC);
    expect(json(j).decision).toBe("allow");
  });
});

describe("agentgate mcp", () => {
  it("without @agentgate/mcp installed: one line saying what to install, exit 2", async () => {
    const r = await runCli(["mcp", "--policy", "p.yaml", "--", "npx", "server"], { cwd: dir, env: { PATH: dir } });
    expect(r.code).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toMatch(
      /^agentgate: agentgate mcp runs the agentgate-mcp proxy from @agentgate\/mcp, which is not installed here: npm install @agentgate\/mcp/,
    );
  });
});
