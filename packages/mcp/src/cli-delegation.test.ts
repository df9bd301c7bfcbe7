import { spawn } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, EVERYTHING_SERVER, tempDir, text } from "./test-utils/proxy-harness.js";

// `agentgate mcp ...` (the CLI) runs this package's binary from PATH, as an install would link it.
const CLI = fileURLToPath(new URL("../node_modules/@agentgate/cli/dist/bin.js", import.meta.url));
const work = tempDir("agentgate-mcp-cli-");
symlinkSync(BIN, join(work.dir, "agentgate-mcp"));
const env = { ...(process.env as Record<string, string>), PATH: `${work.dir}:${process.env.PATH}` };
afterAll(() => work.cleanup());

describe("agentgate mcp", () => {
  it("proxies MCP over the CLI's own stdio", async () => {
    const policy = work.write(
      "p.yaml",
      "name: cli\nrules:\n  - action: tool_use\n    allowed: true\n    allowed_targets: [echo]\n",
    );
    const client = new Client({ name: "via-cli", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp", "--policy", policy, "--", process.execPath, EVERYTHING_SERVER, "stdio"],
        env,
        stderr: "ignore",
      }),
    );
    try {
      expect(text(await client.callTool({ name: "echo", arguments: { message: "hi" } }))).toBe("Echo: hi");
      expect((await client.callTool({ name: "get-env", arguments: {} })).isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("passes the proxy's refusal and exit code through", async () => {
    const bad = work.write("bad.yaml", "name: bad\nrules:\n  - action: tool_use\n    allowed: maybe\n");
    const child = spawn(process.execPath, [CLI, "mcp", "--policy", bad, "--", "true"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(err).toMatch(/bad\.yaml:4: rules\[0\]\.allowed: /);
  });
});
