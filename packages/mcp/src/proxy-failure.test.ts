import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, EVERYTHING_SERVER, tempDir } from "./test-utils/proxy-harness.js";

const conf = tempDir("agentgate-mcp-crash-");
afterAll(() => conf.cleanup());

describe("an upstream that crashes", () => {
  it("fails the request in flight with a clear error, and the proxy exits with code 1", async () => {
    const policy = conf.write("policy.yaml", "name: crash\nrules:\n  - action: tool_use\n    allowed: true\n");
    // A shell in between reports the proxy's exit code on stderr.
    const transport = new StdioClientTransport({
      command: "/bin/sh",
      args: [
        "-c",
        '"$0" "$@"; echo "proxy exit code $?" >&2',
        process.execPath,
        BIN,
        "--policy",
        policy,
        "--",
        process.execPath,
        EVERYTHING_SERVER,
        "stdio",
      ],
      stderr: "pipe",
    });
    let err = "";
    transport.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: "crash-test", version: "1.0.0" });
    await client.connect(transport);
    const pid = Number(/upstream started \(pid (\d+)\)/.exec(err)?.[1]);
    expect(pid).toBeGreaterThan(0);
    const pending = client
      .callTool({ name: "trigger-long-running-operation", arguments: { duration: 20, steps: 20 } })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, "SIGKILL");
    const error = await pending;
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32000);
    expect((error as McpError).message).toMatch(
      /AgentGate MCP proxy: the upstream MCP server "[^"]+" exited or closed the connection/,
    );
    for (let i = 0; i < 100 && !/proxy exit code/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toContain("proxy exit code 1");
    expect(err).toMatch(/the upstream server exited or closed the connection \(1 request failed\)/);
    await client.close();
  });

  it("an upstream command that cannot start ends the proxy with a clear line on stderr", async () => {
    const policy = conf.write("policy2.yaml", "name: nostart\nrules:\n  - action: tool_use\n    allowed: true\n");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "--policy", policy, "--", "/nonexistent/mcp-server"],
      stderr: "pipe",
    });
    let err = "";
    transport.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: "nostart", version: "1.0.0" });
    await expect(client.connect(transport)).rejects.toThrow();
    expect(err).toMatch(/cannot start the upstream MCP server: .*ENOENT/);
  });
});
