import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The README's TypeScript examples run as real programs (Node strips the
// types) from inside this package, importing the built package by name.
const scratch = new URL("../.readme-examples/", import.meta.url);
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("README", () => {
  mkdirSync(scratch, { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("has an example", () => expect(examples.length).toBeGreaterThan(0));

  examples.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what its comments say`, () => {
      const path = new URL(`example-${i}.ts`, scratch);
      writeFileSync(path, code);
      const out = execFileSync(process.execPath, [fileURLToPath(path)], {
        encoding: "utf8",
        cwd: fileURLToPath(scratch),
      });
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
      expect(out.trimEnd().split("\n")).toEqual(expected);
    });
  });
});
