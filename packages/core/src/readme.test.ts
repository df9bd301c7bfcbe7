import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// Every TypeScript example in the READMEs that uses only the core runs here as a
// real program (Node strips the types), importing the built package by name.
const root = new URL("../../../", import.meta.url);
const scratch = new URL("../.readme-examples/", import.meta.url);
const readmes = ["README.md", "packages/core/README.md"];

function examples(file: string): string[] {
  const text = readFileSync(new URL(file, root), "utf8");
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((code) => /from "@agentgate\/core"/.test(code) && !/from "(?!@agentgate\/core|node:)[^"]+"/.test(code));
}

describe("README examples", () => {
  mkdirSync(scratch, { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  for (const file of readmes) {
    examples(file).forEach((code, i) => {
      it(`${file} example ${i + 1} runs`, () => {
        const path = new URL(`example-${file.replace(/\W/g, "_")}-${i}.ts`, scratch);
        writeFileSync(path, code);
        const out = execFileSync(process.execPath, [fileURLToPath(path)], {
          encoding: "utf8",
          cwd: fileURLToPath(scratch),
        });
        // Each "// value" comment on a console.log line is the expected output.
        const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
        const lines = out.trimEnd().split("\n");
        expect(lines).toHaveLength(expected.length);
        // The comment (up to " — ") is a substring of the output; "~" marks approximate values.
        expected.forEach((comment, j) => {
          if (comment.startsWith("~")) return;
          expect(lines[j]).toContain(comment.split(" — ")[0]!.trim());
        });
      });
    });
  }
});
