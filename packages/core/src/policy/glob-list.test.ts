import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob } from "./glob.js";
import { GlobList } from "./glob-list.js";

// The index (exact set, dir/** per ancestor, groups per literal directory) must not change what a list matches.
const dir = fc.constantFrom("", "/", "/srv/", "/srv/a/", "/srv/a/b/", "/srv/ab/", "https://", "https://h/", "a/");
const tail = fc.constantFrom(
  "**",
  "*",
  "*.md",
  "x",
  "x/**",
  "**/x",
  "*a*b*",
  "{x,y}/**",
  "?",
  "a/*/b",
  "**/*.md",
  "\\*x",
  "",
  "a",
);
const pattern = fc
  .tuple(dir, tail)
  .map(([d, t]) => d + t)
  .filter((p) => p !== "");
const piece = fc.constantFrom("/", "srv", "a", "b", "ab", "x", "y", ".md", "https:", "h", "*", "");
const target = fc.array(piece, { maxLength: 7 }).map((xs) => xs.join(""));

describe("GlobList index", () => {
  it("property: a list of up to 80 patterns matches exactly when one pattern does, and find names one that does", () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 80 }),
        fc.array(target, { minLength: 1, maxLength: 10 }),
        (ps, ts) => {
          const list = new GlobList(ps);
          const single = ps.map(compileGlob);
          for (const t of ts) {
            const want = single.some((g) => g.test(t));
            expect(list.test(t), `${JSON.stringify(ps)} ${t}`).toBe(want);
            const found = list.find(t);
            if (want) expect(found !== undefined && compileGlob(found).test(t)).toBe(true);
            else expect(found).toBeUndefined();
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("property: short lists (a few dir/** patterns, compared as prefixes by test) match exactly when one pattern does", () => {
    const short = fc.oneof(
      pattern,
      dir.map((d) => `${d}x/**`),
      dir.map((d) => `${d}**`),
    );
    fc.assert(
      fc.property(fc.array(short, { minLength: 1, maxLength: 7 }), fc.array(target, { maxLength: 10 }), (ps, ts) => {
        const list = new GlobList(ps);
        const single = ps.map(compileGlob);
        for (const t of [...ts, ...ps.map((p) => p.replace(/\/?\*\*$/, ""))]) {
          const want = single.some((g) => g.test(t));
          expect(list.test(t), `${JSON.stringify(ps)} ${t}`).toBe(want);
          expect(list.find(t) !== undefined).toBe(want);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("names the matching pattern among 10 000 from the index", () => {
    const ps = Array.from(
      { length: 10_000 },
      (_, i) => [`/srv/p${i}/**`, `/srv/q${i}/*.md`, `/exact/${i}`, `/srv/r${i}/**/*.md`][i % 4]!,
    );
    const list = new GlobList(ps);
    expect(list.find("/srv/p9996/x/y")).toBe("/srv/p9996/**");
    expect(list.find("/srv/q9997/readme.md")).toBe("/srv/q9997/*.md");
    expect(list.find("/exact/9998")).toBe("/exact/9998");
    expect(list.find("/srv/r9999/a/b.md")).toBe("/srv/r9999/**/*.md");
    expect(list.find("/srv/r9999/a/b.txt")).toBeUndefined();
    expect(list.test("/srv/p9995/x")).toBe(false);
  });

  it("property: within one group (regex and automaton patterns mixed), find names the first matching pattern in list order", () => {
    const groupTail = fc.constantFrom(
      "*",
      "*.md",
      "**/x",
      "*a*b*",
      "{x,y}/**",
      "?",
      "**/*.md",
      "**/a/**/b*",
      "*/**/x*",
      "{a,**/b}*",
    );
    fc.assert(
      fc.property(
        fc.array(groupTail, { minLength: 1, maxLength: 40 }),
        fc.array(target, { minLength: 1, maxLength: 10 }),
        (ps, ts) => {
          const list = new GlobList(ps);
          for (const t of ts)
            expect(list.find(t), `${JSON.stringify(ps)} ${t}`).toBe(ps.find((p) => compileGlob(p).test(t)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("names the matching pattern among 10 000 automaton patterns of one group, also after its state cache was flushed", () => {
    const ps = Array.from({ length: 10_000 }, (_, i) => `/data/**/d${i}/*.md`);
    const list = new GlobList(ps);
    // Many distinct targets fill the lazy automaton's cache several times over.
    for (let i = 0; i < 10_000; i += 97) expect(list.find(`/data/x/y/d${i}/notes.md`)).toBe(`/data/**/d${i}/*.md`);
    expect(list.find("/data/x/d9999/notes.md")).toBe("/data/**/d9999/*.md");
    expect(list.find("/data/x/d10000/notes.md")).toBeUndefined();
    expect(list.test("/data/x/d9999/notes.txt")).toBe(false);
  });

  it("rejects an invalid pattern that would go to the automaton", () => {
    expect(() => new GlobList(Array.from({ length: 20 }, (_, i) => `/a/**/b${i}/*.md`).concat(["/a/**/{x"]))).toThrow(
      TypeError,
    );
  });
});
