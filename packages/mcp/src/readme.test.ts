import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { PermissionPolicy } from "@agentgate/core";
import { afterAll, expect, it, vi } from "vitest";
import { deniesEveryCall, parseMapping } from "./mapping.js";
import { parseProxyArgs } from "./proxy-args.js";
import { FILESYSTEM_SERVER } from "./test-utils/proxy-harness.js";

const dir = new URL("../.readme-example/", import.meta.url);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("runs the README library example as written (the filesystem server from node_modules instead of npx)", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const npx = 'command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]';
  expect(code).toContain(npx);
  await mkdir(dir, { recursive: true });
  const file = new URL("example.ts", dir);
  await writeFile(
    file,
    code!
      .replace('from "@agentgate/mcp"', 'from "../src/index.js"')
      .replace(npx, `command: process.execPath, args: [${JSON.stringify(FILESYSTEM_SERVER)}, "/tmp"]`),
  );
  const lines: unknown[][] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args);
  });
  try {
    await import(file.href);
  } finally {
    log.mockRestore();
  }
  expect(lines).toHaveLength(1);
  expect(lines[0]![0]).toBe(true);
  expect(lines[0]![1]).toEqual([
    { type: "text", text: 'AgentGate denied this call: no rule for action "file_write": denied by default' },
  ]);
});

it("the README's policy, mapping and mcpServers JSON are valid and agree", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const [policyYaml, mappingYaml] = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const policy = PermissionPolicy.parse(policyYaml!);
  const mapping = parseMapping(mappingYaml!);
  const config = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)![1]!) as {
    mcpServers: Record<string, { command: string; args: string[] }>;
  };
  const server = config.mcpServers.filesystem!;
  expect(server.command).toBe("npx");
  expect(server.args.slice(0, 2)).toEqual(["-y", "@agentgate/mcp"]);
  const args = parseProxyArgs(server.args.slice(2));
  expect(args.upstream).toEqual({
    command: "npx",
    args: ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Documents"],
  });
  // What the example promises: reads inside Documents pass, .env files and writes without approval do not.
  expect(policy.check("file_read", "/Users/me/Documents/a/b.md")).toBe("allow");
  expect(policy.check("file_read", "/Users/me/Documents/.env")).toBe("deny");
  expect(policy.check("file_read", "/Users/me/Documents/../.ssh/id_rsa")).toBe("deny");
  expect(policy.check("file_write", "/Users/me/Documents/a.md")).toBe("escalate");
  expect(policy.check("file_write", "/Users/me/.zshrc")).toBe("deny");
  expect(deniesEveryCall(policy, "move_file", mapping)).toBe(true);
  expect(deniesEveryCall(policy, "write_file", mapping)).toBe(false);
});
