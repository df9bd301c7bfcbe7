import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The examples of README-node.md (to be merged into the core README) run as
// real programs against the built package, like src/readme.test.ts does.
const readme = new URL("../../README-node.md", import.meta.url);
const scratch = new URL("../../.scratch/readme-node-examples/", import.meta.url);

describe("README-node examples", () => {
  const blocks = [...readFileSync(readme, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  mkdirSync(scratch, { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  it("has examples", () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what its comments say`, () => {
      const path = new URL(`example-${i}.ts`, scratch);
      writeFileSync(path, code);
      const out = execFileSync(process.execPath, [fileURLToPath(path)], { encoding: "utf8", cwd: fileURLToPath(scratch) });
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
      expect(out.trimEnd().split("\n")).toEqual(expected);
    });
  });
});
