import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { builtEntry, redisUrl } from "./test-utils/redis-env.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe.skipIf(redisUrl === null)("README", () => {
  it("runs its example against Redis", async () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    // The example as a user runs it, with this package's build standing in for the installed one.
    const file = join(dirname(builtEntry), "readme-example.mjs");
    writeFileSync(file, code.replace('from "@agentgate/redis"', `from ${JSON.stringify(builtEntry)}`));
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, AGENTGATE_REDIS_URL: redisUrl! },
      timeout: 20_000,
    });
    const lines = stdout.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["allow", "allow", "deny"]);
    expect(lines[2]).toContain('rule "llm_call": max_per_minute limit of 2 reached');
  });
});
