import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe("optional peers", () => {
  it("GateCallbackHandler and gateTools work without langchain and @langchain/langgraph; gateMiddleware says what is missing", async () => {
    const hooks = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(new URL("./test-utils/without-peers-hooks.mjs", import.meta.url).href)});`;
    const { stdout } = await run(process.execPath, ["--no-warnings", "--import", hooks, here("./test-utils/without-peers-child.ts")], {
      cwd: here(".."),
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(out.runs).toEqual(["search:a"]);
    expect(out.refused).toMatchObject({ denied: true, code: "target_not_allowed" });
    expect(out.reply).toBe("hi");
    expect(out.middlewareError).toMatch(/gateMiddleware needs the `langchain` package/);
  });
});
