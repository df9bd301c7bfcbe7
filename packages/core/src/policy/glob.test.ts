import fc from "fast-check";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { compileGlob, globError, globToRegexSource } from "./glob.js";
import { GlobList } from "./glob-list.js";
import { PermissionPolicy } from "./permission-policy.js";

const m = (pattern: string, target: string) => compileGlob(pattern).test(target);

describe("compileGlob", () => {
  it("matches literals exactly and case-sensitively", () => {
    expect(m("search", "search")).toBe(true);
    expect(m("search", "Search")).toBe(false);
    expect(m("search", "search2")).toBe(false);
  });

  it("* stays within a segment, ** crosses segments", () => {
    expect(m("/workspace/*", "/workspace/a.txt")).toBe(true);
    expect(m("/workspace/*", "/workspace/a/b.txt")).toBe(false);
    expect(m("/workspace/**", "/workspace/a/b.txt")).toBe(true);
    expect(m("/workspace/**", "/workspace")).toBe(true);
    expect(m("/workspace/**", "/workspaces/x")).toBe(false);
    expect(m("/a/**/b", "/a/b")).toBe(true);
    expect(m("/a/**/b", "/a/x/y/b")).toBe(true);
    expect(m("**/.env", ".env")).toBe(true);
    expect(m("**/.env", "/deep/dir/.env")).toBe(true);
  });

  it("? is one character, {a,b} alternatives nest", () => {
    expect(m("file?.txt", "file1.txt")).toBe(true);
    expect(m("file?.txt", "file10.txt")).toBe(false);
    expect(m("file?.txt", "file/.txt")).toBe(false);
    expect(m("{read,write}_file", "write_file")).toBe(true);
    expect(m("{a,b{c,d}}", "bd")).toBe(true);
    expect(m("{a,b{c,d}}", "b")).toBe(false);
  });

  it("wildcards match dotfiles, so deny lists cannot be dodged", () => {
    expect(m("*", ".env")).toBe(true);
    expect(m("/home/*/secrets", "/home/.hidden/secrets")).toBe(true);
    expect(m("**", ".git/config")).toBe(true);
  });

  it("escapes regex metacharacters and honours backslash escapes", () => {
    expect(m("a.b", "axb")).toBe(false);
    expect(m("a+(b)", "a+(b)")).toBe(true);
    expect(m("price\\*", "price*")).toBe(true);
    expect(m("price\\*", "prices")).toBe(false);
    expect(m("[abc]", "[abc]")).toBe(true);
    expect(m("[abc]", "a")).toBe(false);
  });

  it("newlines cannot smuggle a target past **", () => {
    expect(m("**/.env", "/a\n/b/.env")).toBe(true);
    expect(m("/w/**", "/w/x\ny")).toBe(true);
  });

  it("reports malformed patterns", () => {
    expect(globError("{a,b")).toMatch(/unclosed/);
    expect(globError("a}")).toMatch(/unmatched/);
    expect(globError("")).toMatch(/empty/);
    expect(globError("a\\")).toMatch(/escape/);
    expect(globError(3)).toMatch(/string/);
    expect(globError("ok/**")).toBeUndefined();
    expect(() => compileGlob("{x")).toThrow(TypeError);
  });
});

describe("GlobList", () => {
  it("agrees with its single patterns and finds the pattern that fired", () => {
    const list = new GlobList(["search", "/w/**", "*.md", "{a,b}/c"]);
    expect(list.test("search")).toBe(true);
    expect(list.test("/w/x/y")).toBe(true);
    expect(list.test("README.md")).toBe(true);
    expect(list.test("b/c")).toBe(true);
    expect(list.test("docs/README.md")).toBe(false);
    expect(list.find("README.md")).toBe("*.md");
    expect(list.find("nope")).toBeUndefined();
    expect(new GlobList([]).test("x")).toBe(false);
    expect(new GlobList(["**"]).test("anything/at/all")).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Differential test against picomatch, an independent implementation.
// Segments never equal "." or ".." (targets are normalised before matching).
// Two documented differences are kept out of the comparison: picomatch reads
// "{a..b}" as a range (we do not support ranges), and picomatch lets "lit/**"
// match "lit" but not "*/**" match "a"; we treat a trailing "/**" as "zero or
// more segments" consistently.
const comparable = (p: string) => !/\{[^}]*\.\.[^}]*\}/.test(p) && !/(^|\/)[^/]*[*?{][^/]*\/\*\*$/.test(p);

const segChar = fc.constantFrom("a", "b", "c", ".", "-", "_");
const segment = fc.string({ unit: segChar, minLength: 1, maxLength: 4 }).filter((s) => s !== "." && s !== "..");
const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segs) => segs.join("/"));

const patSegment = fc.oneof(
  { weight: 4, arbitrary: segment },
  { weight: 2, arbitrary: fc.constant("*") },
  { weight: 1, arbitrary: fc.constant("?") },
  { weight: 2, arbitrary: segment.map((s) => `${s}*`) },
  { weight: 2, arbitrary: segment.map((s) => `*${s}`) },
  { weight: 2, arbitrary: fc.tuple(segment, segment).map(([x, y]) => `{${x},${y}}`) },
);
const pattern = fc
  .array(fc.oneof({ weight: 5, arbitrary: patSegment }, { weight: 1, arbitrary: fc.constant("**") }), {
    minLength: 1,
    maxLength: 5,
  })
  .map((segs) => segs.join("/"))
  .filter((p) => !p.includes("**/**") && comparable(p));

describe("glob matcher vs picomatch (oracle)", () => {
  it("agrees on generated patterns and paths", () => {
    fc.assert(
      fc.property(pattern, path, (p, t) => {
        const oracle = picomatch(p, { dot: true })(t);
        expect({ p, t, ours: compileGlob(p).test(t) }).toEqual({ p, t, ours: oracle });
        expect(new GlobList([p]).test(t)).toBe(oracle);
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees on paths built to match", () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.nat(), (segs, k) => {
        const t = segs.join("/");
        const i = k % segs.length;
        const variants = [
          segs.map((s, j) => (j === i ? "*" : s)).join("/"),
          [...segs.slice(0, i), "**"].join("/"),
          ["**", ...segs.slice(i)].join("/"),
          segs.map((s, j) => (j === i ? `{zz,${s}}` : s)).join("/"),
        ];
        for (const p of variants) {
          if (comparable(p)) expect(compileGlob(p).test(t)).toBe(picomatch(p, { dot: true })(t));
          expect(compileGlob(p).test(t)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps a trailing /** consistent: zero or more segments", () => {
    expect(compileGlob("*/**").test("a")).toBe(true);
    expect(compileGlob("a/**").test("a")).toBe(true);
  });

  it("never throws and stays linear on long hostile targets", () => {
    const p = compileGlob("**/**/a*b*c*d/**/e");
    expect(p.test(`${"a/".repeat(2000)}x`)).toBe(false);
    expect(globToRegexSource("a/**")).toBe("a(?:/.*)?");
  });
});

describe("braces (issue 12 item 3)", () => {
  it("dir/** covers dir itself inside braces, as outside", () => {
    const g = compileGlob("{/workspace/.git/**,/workspace/.env}");
    expect(g.test("/workspace/.git")).toBe(true);
    expect(g.test("/workspace/.git/config")).toBe(true);
    expect(g.test("/workspace/.env")).toBe(true);
    expect(g.test("/workspace/.gitignore")).toBe(false);
    expect(new GlobList(["{/workspace/.git/**,/workspace/.env}"]).test("/workspace/.git")).toBe(true);
    expect(compileGlob("/workspace/{.git,node_modules}/**").test("/workspace/.git")).toBe(true);
    expect(compileGlob("/w/{a/**,b}/c").test("/w/a/c")).toBe(true);
    expect(compileGlob("{**/.env,x}").test(".env")).toBe(true);
    expect(compileGlob("/w/{**/.env,x}").test("/w/.env")).toBe(true);
    expect(compileGlob("/w/{**,x}").test("/w")).toBe(true);
    expect(compileGlob("/w/{a,b}**").test("/w/a/x")).toBe(true);
    // Star runs from two sides of a brace never merge into a globstar.
    expect(compileGlob("{a*,b}*x/**").test("abx/y")).toBe(true);
    expect(compileGlob("{a*,b}*x/**").test("a/x")).toBe(false);
    // picomatch does not apply the whole-segment rule inside braces; we follow the expansion.
    expect(picomatch("{/workspace/.git/**,/workspace/.env}", { dot: true })("/workspace/.git")).toBe(false);
  });

  it("refuses braces around ** that expand to more than 256 patterns", () => {
    expect(globError("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}/**")).toBeUndefined();
    expect(globError("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}/**")).toMatch(/more than 256/);
    expect(globError("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}/*")).toBeUndefined();
  });

  it("a file_write deny list with braces denies the directory name itself", () => {
    const policy = new PermissionPolicy({
      name: "braces",
      rules: [{ action: "file_write", allowed: true, deniedTargets: ["{/workspace/.git/**,/workspace/.env}"] }],
    });
    expect(policy.explain("file_write", "/workspace/.git")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(policy.check("file_write", "/workspace/.git/hooks/pre-commit")).toBe("deny");
    expect(policy.check("file_write", "/workspace/src/a.ts")).toBe("allow");
  });
});
