import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("runs the quick start", () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL("./index.ts", import.meta.url))], {
    encoding: "utf8",
  });
  expect(out).toContain('true rule "tool_use" allows target "search"');
  expect(out).toContain('deny rule "shell" does not allow this action');
});
