import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The README's TypeScript example runs as a real program (Node strips the types),
// importing the built package by name, like a user would.
const scratch = new URL("../.readme-examples/", import.meta.url);
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("README", () => {
  mkdirSync(scratch, { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("has a runnable example", () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  examples.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what its comments say`, () => {
      const file = new URL(`example-${i}.ts`, scratch);
      writeFileSync(file, code);
      const out = execFileSync(process.execPath, ["--no-warnings", fileURLToPath(file)], {
        encoding: "utf8",
        cwd: fileURLToPath(scratch),
      });
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!.split(" — ")[0]!.trim());
      const lines = out.trimEnd().split("\n");
      expect(lines).toHaveLength(expected.length);
      expected.forEach((text, j) => expect(lines[j]).toContain(text));
    });
  });
});
