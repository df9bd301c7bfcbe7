import { spawn, execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EVERYTHING_SERVER, spawnProxy, tempDir } from "./test-utils/proxy-harness.js";

// The MCP conformance suite (server mode) against server-everything alone and behind the proxy
// with a permissive policy: every check that passes alone must pass behind the proxy.
const CONFORMANCE = fileURLToPath(
  new URL("../node_modules/@modelcontextprotocol/conformance/dist/index.js", import.meta.url),
);
const work = tempDir("agentgate-mcp-conformance-");
const children: { kill(): void }[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  work.cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs the suite against `url`; returns `scenario/check → status`. */
async function conformance(url: string, name: string): Promise<Map<string, string>> {
  const out = join(work.dir, name);
  await new Promise<void>((resolve) =>
    execFile(process.execPath, [CONFORMANCE, "server", "--url", url, "-o", out], { timeout: 240_000 }, () => resolve()),
  );
  const checks = new Map<string, string>();
  for (const dir of readdirSync(out)) {
    const scenario = dir.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "");
    for (const c of JSON.parse(readFileSync(join(out, dir, "checks.json"), "utf8")) as {
      id?: string;
      name?: string;
      status: string;
    }[]) {
      checks.set(`${scenario}/${c.id ?? c.name}`, c.status);
    }
  }
  return checks;
}

describe("MCP conformance suite (server mode)", () => {
  it("passes behind the proxy every check server-everything passes alone", { timeout: 300_000 }, async () => {
    const port = await freePort();
    const alone = spawn(process.execPath, [EVERYTHING_SERVER, "streamableHttp"], {
      env: { ...process.env, PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(alone);
    await new Promise<void>((resolve) => {
      let err = "";
      alone.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("listening on port")) resolve();
      });
    });
    const policy = work.write(
      "permissive.yaml",
      "name: permissive\nrules:\n  - action: tool_use\n    allowed: true\n  - action: data_access\n    allowed: true\n",
    );
    const proxy = spawnProxy([
      "--policy",
      policy,
      "--listen",
      "127.0.0.1:0",
      "--",
      process.execPath,
      EVERYTHING_SERVER,
      "stdio",
    ]);
    children.push(proxy);
    const [, proxied] = await proxy.waitFor(/listening on (http:\/\/\S+)/);

    const a = await conformance(`http://127.0.0.1:${port}/mcp`, "alone");
    const p = await conformance(proxied!, "proxied");
    expect(a.size).toBeGreaterThan(20);
    expect([...p.keys()].sort()).toEqual([...a.keys()].sort());
    const lost = [...a].filter(([k, s]) => s === "SUCCESS" && p.get(k) !== "SUCCESS").map(([k]) => k);
    expect(lost).toEqual([]);
    const passed = (m: Map<string, string>) => [...m.values()].filter((s) => s === "SUCCESS").length;
    console.log(
      `[conformance] server-everything alone: ${passed(a)}/${a.size} checks pass; behind agentgate-mcp: ${passed(p)}/${p.size}`,
    );
    expect(passed(p)).toBeGreaterThanOrEqual(passed(a));
  });
});
