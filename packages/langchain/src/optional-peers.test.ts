import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe("optional peers", () => {
  it("GateCallbackHandler, gateTools and gateMiddleware build and work without langchain and @langchain/langgraph", async () => {
    const hooks = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(new URL("./test-utils/without-peers-hooks.mjs", import.meta.url).href)});`;
    const { stdout } = await run(
      process.execPath,
      ["--no-warnings", "--import", hooks, here("./test-utils/without-peers-child.ts")],
      {
        cwd: here(".."),
      },
    );
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(out.runs).toEqual(["search:a"]);
    expect(out.refused).toMatchObject({ denied: true, code: "target_not_allowed" });
    expect(out.reply).toBe("hi");
    expect(out).toMatchObject({ middleware: "AgentGate", branded: true });
  });

  // The built package, as a user loads it (run `build` first; the README test needs it too).
  const dist = here("../dist/index.js");

  it("require() works: no top-level await anywhere in the module graph", async () => {
    const code = `const m = require(${JSON.stringify(dist)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
    const { stdout } = await run(process.execPath, ["--no-warnings", "-e", code], { cwd: here("..") });
    expect(JSON.parse(stdout)).toEqual(
      expect.arrayContaining(["GateCallbackHandler", "gateMiddleware", "gateTools", "isGateInterrupt"]),
    );
  });

  it("importing the adapter loads neither langchain nor @langchain/langgraph", async () => {
    // A loader hook records every module URL that resolves; none may be in those packages.

    const code = [
      `import { register } from "node:module";`,
      `const seen = [];`,
      `const { port1, port2 } = new MessageChannel();`,
      `port1.on("message", (u) => seen.push(u)); port1.unref();`,
      `register("data:text/javascript," + encodeURIComponent("let p;export function initialize(d){p=d.port}export async function resolve(s,c,n){const r=await n(s,c);p.postMessage(r.url);return r}"), { data: { port: port2 }, transferList: [port2] });`,
      `const m = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});`,
      `m.gateMiddleware; await new Promise((r) => setTimeout(r, 50));`,
      `console.log(JSON.stringify(seen));`,
    ].join("\n");

    const { stdout } = await run(process.execPath, ["--no-warnings", "--input-type=module", "-e", code], {
      cwd: here(".."),
    });
    const seen: string[] = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(seen.some((u) => u.includes("/@langchain/core/"))).toBe(true);
    expect(seen.filter((u) => /\/node_modules\/(langchain|@langchain\/langgraph)\//.test(u))).toEqual([]);
  });
});
