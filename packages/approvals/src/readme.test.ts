import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const core = fileURLToPath(import.meta.resolve("@agentgate/core"));

describe("README", () => {
  it("runs its example as a real program", async () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const dir = mkdtempSync(join(tmpdir(), "agentgate-approvals-readme-"));
    try {
      const file = join(dir, "example.ts");
      writeFileSync(
        file,
        code
          .replace('from "@agentgate/approvals"', `from ${JSON.stringify(entry)}`)
          .replace('from "@agentgate/core"', `from ${JSON.stringify(core)}`),
      );
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir, timeout: 30_000 });
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
      expect(stdout.trim().split("\n")).toEqual(expected);
      expect(readFileSync(join(dir, "approvers.yaml"), "utf8")).not.toContain("a long passphrase");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
