import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, globEngines } from "../policy/glob.js";
import { GlobList } from "../policy/glob-list.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { MAX_TARGET_LENGTH } from "../policy/target.js";

// Targets are data, never patterns: metacharacters in a target are matched literally.
describe("glob metacharacters inside targets", () => {
  const metachars = ["*", "**", "?", "{a,b}", "[a-z]", "(.*)", ".*", "\\", "$", "^", "|", "+", "!", "@(x)", "%", "\n"];

  it("a literal pattern matches only itself, whatever metacharacters the target holds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("search", "deploy", "/w/a", "x"), { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom(...metachars, "a", "/", "search"), { minLength: 1, maxLength: 5 }),
        (patterns, parts) => {
          const t = parts.join("");
          expect(new GlobList(patterns).test(t)).toBe((patterns as string[]).includes(t));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a target written as a pattern does not match what the pattern would", () => {
    const deny = new GlobList(["/workspace/secret.txt", "delete_all", "https://evil.test/x"]);
    for (const t of [
      "/workspace/secret.*",
      "/workspace/secret.tx?",
      "/workspace/{secret,x}.txt",
      "/workspace/secret[.]txt",
      "delete_*",
      "delete_(all)",
      "https://evil.test/*",
    ]) {
      expect(deny.test(t)).toBe(false);
    }
    // Regex syntax in the pattern is literal too.
    expect(compileGlob("a.b").test("axb")).toBe(false);
    expect(compileGlob("(a|b)").test("a")).toBe(false);
    expect(compileGlob("a+").test("aa")).toBe(false);
    expect(compileGlob("[ab]").test("a")).toBe(false);
    expect(compileGlob("^x$").test("^x$")).toBe(true);
  });

  it("file targets with * or ? are refused: a shell or glob-aware tool would expand them", () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [{ action: "file_read", allowed: true, allowedTargets: ["/workspace/**"], deniedTargets: ["**/.env"] }],
    });
    expect(policy.check("file_read", "/workspace/.e*")).toBe("deny");
    expect(policy.check("file_read", "/workspace/.en?")).toBe("deny");
    expect(policy.explain("file_read", "/workspace/*").code).toBe("invalid_target");
    // Brackets and braces are ordinary (and common: Next.js routes) file names.
    expect(policy.check("file_read", "/workspace/pages/[id].tsx")).toBe("allow");
    expect(policy.check("file_read", "/workspace/{a,b}.txt")).toBe("allow");
  });

  it("? and * take whole Unicode characters, so an emoji cannot slip past a deny pattern", () => {
    expect(compileGlob("secret?").test("secret😀")).toBe(true);
    expect(compileGlob("x/?/y").test("x/😀/y")).toBe(true);
    expect(new GlobList(["secret?", "*/*/*"]).test("secret😀")).toBe(true);
    expect(compileGlob("a?b*c?d").test("a😀bxxc😀d")).toBe(true);
  });
});

// Before this suite, "*a*a*a*b" compiled to a backtracking regex: 500 "a"s took
// 15 s and 8192 took hours. Now patterns whose regex could backtrack run on an
// automaton, so every check is linear in the target.
describe("matching time is linear in the target, whatever the pattern", () => {
  const hostile: [string, string][] = [
    ["*a*a*a*a*a*b", "a".repeat(MAX_TARGET_LENGTH)],
    ["**a**a**a**a**b", "a".repeat(MAX_TARGET_LENGTH)],
    ["**/a/**/a/**/a/**/b", "a/".repeat(MAX_TARGET_LENGTH / 2)],
    ["*x*/", "x".repeat(MAX_TARGET_LENGTH)],
    ["{*a,*a}*{*a,*a}*{*a,a*}*b", "a".repeat(MAX_TARGET_LENGTH)],
    ["*-*-*-*-*.log", "-".repeat(MAX_TARGET_LENGTH)],
    ["https://*.example.com/**/*.json", `https://${"a.".repeat(MAX_TARGET_LENGTH / 2 - 8)}`],
  ];

  it("picks a backtracking regex only for patterns with at most one repetition", () => {
    for (const [p] of hostile) expect(globEngines(p).picked).toBe("nfa");
    for (const p of ["*.md", "**/.env", "file?.txt", "{read,write}_file", "https://api.example.com/*", "*.{js,ts}"]) {
      expect(globEngines(p).picked).toBe("regex");
    }
    expect(globEngines("/workspace/**").picked).toBe("prefix");
    expect(globEngines("search").picked).toBe("exact");
  });

  it("decides pathological pattern/target pairs (each took minutes or hours before)", () => {
    for (const [p, t] of hostile) {
      const list = new GlobList([p, "zzz*yyy*xxx"]);
      // Two passes: the first fills the DFA cache, the second runs on it.
      for (let i = 0; i < 2; i++) {
        expect(compileGlob(p).test(t)).toBe(false);
        expect(list.test(t)).toBe(false);
        expect(list.test(`${t.slice(0, 100)}`)).toBe(false);
      }
    }
  });

  it("keeps working when the DFA cache is full (empties and rebuilds it, RE2-style; same answers)", () => {
    // "an a, then ten characters, then b": a DFA needs 2^11 states to remember where the a's were.
    const p = "*a??????????b*";
    const e = globEngines(p);
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "x"), { maxLength: 60 }), (cs) => {
        const t = cs.join("");
        expect(e.dfa(t)).toBe(e.nfa(t));
        expect(e.dfa(t)).toBe(e.regex(t));
      }),
      { numRuns: 2000 },
    );
    expect(e.dfaStates()).toBeLessThanOrEqual(256);
    expect(e.dfaFlushes()).toBeGreaterThan(0);
  });
});

// PermissionPolicy.check has its own fast path (no reasons, plain targets unnormalised);
// it must give the very verdict evaluate gives, whatever the target.
describe("policy.check and policy.evaluate agree on hostile targets", () => {
  const policy = new PermissionPolicy({
    name: "agree",
    rules: [
      {
        action: "tool_use",
        allowed: true,
        allowedTargets: ["search", "mcp_*", "*a*b*c"],
        deniedTargets: ["mcp_admin*"],
        escalateTargets: ["deploy"],
      },
      {
        action: "file_read",
        allowed: true,
        allowedTargets: ["/workspace/**", "C:/work/**"],
        deniedTargets: ["**/.env"],
      },
      {
        action: "network",
        allowed: true,
        deniedTargets: ["http://127.0.0.1/**"],
        escalateTargets: ["https://*.example.com/**"],
      },
      { action: "shell", allowed: false },
      { action: "llm_call", allowed: true, requireApproval: true },
    ],
  });
  const piece = fc.constantFrom(
    "search",
    "mcp_",
    "admin",
    "deploy",
    "/workspace",
    "/",
    "..",
    ".",
    ".env",
    "%2e",
    "\\",
    "\0",
    "*",
    "?",
    "C:",
    "//",
    "é",
    "e\u0301",
    "http://",
    "https://",
    "HTTP://",
    "127.0.0.1",
    "2130706433",
    "x.example.com",
    "@",
    "#",
    ":80",
    " ",
    "a",
    "b",
    "c",
  );
  it("for every action and target built from tricky pieces", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("tool_use", "file_read", "network", "shell", "llm_call", "none"),
        fc.option(
          fc.array(piece, { maxLength: 8 }).map((p) => p.join("")),
          { nil: undefined },
        ),
        (action, target) => {
          expect(policy.check(action, target)).toBe(policy.evaluate(action, target).type);
        },
      ),
      { numRuns: 3000 },
    );
    const long = "a".repeat(MAX_TARGET_LENGTH + 1);
    expect(policy.check("tool_use", long)).toBe(policy.evaluate("tool_use", long).type);
  });
});
