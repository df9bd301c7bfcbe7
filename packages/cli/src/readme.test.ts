import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BIN, tempDir } from "./test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

it("the README example runs as written", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const example = blocks.find((b) => b.includes("agentgate init"));
  expect(example).toBeDefined();
  // `agentgate` on PATH, as `npm i -D @agentgate/cli` would put it.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "agentgate"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, "agentgate"), 0o755);
  const r = spawnSync("sh", ["-c", example!], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1" },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0); // the last command, `agentgate test`, passes
  expect(r.stdout).toMatch(/^DENY {2}file_read \/workspace\/\.\.\/etc\/passwd \(as \/etc\/passwd\)$/m);
  expect(r.stdout).toMatch(/^DENY {2}llm_call after 20 uses$/m);
  expect(r.stdout).toContain("4 passed, 0 failed, 4 cases");
  expect(r.stdout).toMatch(/coverage: \d of 7 rules exercised/);
});
