import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_TARGET_LENGTH,
  normalizePath,
  normalizeTarget,
  normalizeUrl,
  pathNeedsWork,
  targetKind,
} from "./target.js";

const path = (p: string) => {
  const r = normalizePath(p);
  return r.ok ? r.target : `!${r.problem}`;
};
const url = (u: string) => {
  const r = normalizeUrl(u);
  return r.ok ? r.target : `!${r.problem}`;
};

describe("normalizePath", () => {
  it("resolves dot segments and repeated slashes", () => {
    expect(path("/workspace/../etc/passwd")).toBe("/etc/passwd");
    expect(path("/workspace/./a//b/")).toBe("/workspace/a/b");
    expect(path("/../../etc")).toBe("/etc");
    expect(path("a/../../b")).toBe("../b");
    expect(path("./a")).toBe("a");
    expect(path("/workspace/file.txt")).toBe("/workspace/file.txt");
  });

  it("treats backslashes as separators only in Windows paths, and refuses them elsewhere (ambiguous)", () => {
    expect(path("C:\\workspace\\a.txt")).toBe("C:/workspace/a.txt");
    expect(path("/workspace\\..\\etc\\passwd")).toMatch(/^!.*backslash/);
  });

  it("refuses NUL bytes, percent-encoded traversal and empty paths", () => {
    expect(path("/workspace/a\0.txt")).toMatch(/^!.*NUL/);
    expect(path("/workspace/%2e%2e/etc")).toMatch(/^!.*percent/);
    expect(path("/workspace/%2F")).toMatch(/^!/);
    expect(path("")).toMatch(/^!.*empty/);
  });
});

describe("normalizeUrl", () => {
  it("lower-cases scheme and host and drops default ports and fragments", () => {
    expect(url("HTTPS://API.Example.COM:443/Docs#frag")).toBe("https://api.example.com/Docs");
    expect(url("http://example.com:8080/x")).toBe("http://example.com:8080/x");
    expect(url("https://api.example.com")).toBe("https://api.example.com/");
  });

  it("refuses user info and unparsable URLs", () => {
    expect(url("https://api.example.com@evil.test/")).toMatch(/^!.*user info/);
    expect(url("https://user:pw@api.example.com/")).toMatch(/^!.*user info/);
    expect(url("not a url")).toMatch(/^!/);
    expect(url("not-a-url")).toMatch(/^!.*not a valid/);
    expect(url("api.example.com/path")).toMatch(/^!/);
  });
});

describe("normalizeTarget", () => {
  it("picks the kind from the action", () => {
    expect(targetKind("file_read")).toBe("path");
    expect(targetKind("file_write")).toBe("path");
    expect(targetKind("network")).toBe("url");
    expect(targetKind("tool_use")).toBe("plain");
    expect(normalizeTarget("plain", "a/../b")).toEqual({ ok: true, target: "a/../b" });
  });

  it("refuses oversized targets", () => {
    const r = normalizeTarget("plain", "x".repeat(MAX_TARGET_LENGTH + 1));
    expect(r.ok).toBe(false);
  });
});

describe("pathNeedsWork", () => {
  // The regex it replaced (for speed): the fast path of normalizePath must skip exactly what it skipped.
  const REGEX = /[\\\0*?%]|\/\/|\/\.|\/$|^\.{1,2}(?:\/|$)|^[A-Za-z]:|[^\x00-\x7f]/;

  it("agrees with the regex on the edge cases", () => {
    const cases = ["", ".", "..", "...", "./", "../", ".../", ".x", "..x", "/", "//", "/.", "/a/", "/a/.b", "a//b"];
    cases.push(
      "C:",
      "c:x",
      "@:",
      "[:",
      "`:",
      "{:",
      "1:",
      "/C:",
      "a\\b",
      "a\0b",
      "a*",
      "a?",
      "a%",
      "é",
      "\u007f",
      "\u0080",
    );
    cases.push("\ud83d\ude00", "/workspace/src/index.ts", "/etc/passwd", "rel/path", "a:b");
    for (const c of cases) expect(pathNeedsWork(c), JSON.stringify(c)).toBe(REGEX.test(c));
  });

  it("agrees with the regex on arbitrary strings", () => {
    const char = fc.oneof(
      fc.constantFrom("/", ".", ":", "\\", "\0", "*", "?", "%", "a", "Z", "@", "[", "`", "{", "\u007f", "\u0080", "é"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 12 }), (chars) => {
        const s = chars.join("");
        expect(pathNeedsWork(s)).toBe(REGEX.test(s));
      }),
      { numRuns: 20_000 },
    );
  });
});
