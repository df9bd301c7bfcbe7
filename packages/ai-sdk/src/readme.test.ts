import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, expect, it, vi } from "vitest";

const dir = new URL("../.readme-example/", import.meta.url);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("runs the README example as written", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  await mkdir(dir, { recursive: true });
  const file = new URL("example.ts", dir);
  await writeFile(file, code!.replace('from "@agentgate/ai-sdk"', 'from "../src/index.js"'));

  const lines: unknown[][] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args);
  });
  try {
    await import(file.href);
  } finally {
    log.mockRestore();
  }
  expect(lines).toEqual([
    ["deploy"],
    ["Deployed docs; shell is off limits."],
    [
      [
        "allow llm_call mock-model-id",
        "deny tool_use shell",
        "escalate tool_use deploy",
        "allow tool_use deploy",
        "allow llm_call mock-model-id",
      ],
    ],
  ]);
});
