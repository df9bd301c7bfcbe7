import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  AgentIdentity,
  GateKeeper,
  PermissionDeniedError,
  PermissionPolicy,
  type ApprovalRequest,
} from "@agentgate/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gateMcpClient } from "./gate-mcp-client.js";
import { EVERYTHING_SERVER, FILESYSTEM_SERVER, tempDir, text } from "./test-utils/proxy-harness.js";

async function gateFor(yaml: string): Promise<GateKeeper> {
  return new GateKeeper({ identity: await AgentIdentity.create("lib-agent"), policy: PermissionPolicy.parse(yaml) });
}

async function connect(command: string[]): Promise<Client> {
  const client = new Client({ name: "lib-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: command, stderr: "ignore" }));
  return client;
}

describe("gateMcpClient around a real SDK Client (server-filesystem)", () => {
  const files = tempDir();
  let client: Client;
  let gate: GateKeeper;
  const mapping = {
    read_text_file: { action: "file_read", target: "path" },
    write_file: { action: "file_write", target: "path" },
  } as const;

  beforeAll(async () => {
    files.write("a.txt", "alpha\n");
    gate = await gateFor(`name: lib
rules:
  - action: file_read
    allowed: true
    allowed_targets: ["${files.dir}/**"]
  - action: tool_use
    allowed: true
    allowed_targets: [list_allowed_directories]
`);
    client = gateMcpClient(await connect([FILESYSTEM_SERVER, files.dir]), gate, { mapping });
  });
  afterAll(async () => {
    await client?.close();
    files.cleanup();
  });

  it("lets an allowed read through and returns the file", async () => {
    const r = await client.callTool({ name: "read_text_file", arguments: { path: join(files.dir, "a.txt") } });
    expect(text(r)).toBe("alpha\n");
    expect(gate.decisions.at(-1)).toMatchObject({
      type: "allow",
      action: "file_read",
      target: join(files.dir, "a.txt"),
    });
  });

  it("answers a denied write with isError and the reason; the server never sees it", async () => {
    const r = await client.callTool({
      name: "write_file",
      arguments: { path: join(files.dir, "b.txt"), content: "x" },
    });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('AgentGate denied this call: no rule for action "file_write": denied by default');
    expect(existsSync(join(files.dir, "b.txt"))).toBe(false);
  });

  it("hides always-denied tools from listTools and records the server name", async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["list_allowed_directories", "read_text_file"]);
    expect(gate.decisions.at(-1)?.callId).toMatch(/^secure-filesystem-server:|^[^:]+:/);
  });
});

describe("gateMcpClient resources and escalations (server-everything)", () => {
  let client: Client;
  let gate: GateKeeper;
  const asked: ApprovalRequest[] = [];
  let answer: boolean | Error = true;

  beforeAll(async () => {
    gate = await gateFor(`name: lib-everything
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [echo]
    escalate_targets: [get-sum]
  - action: data_access
    allowed: true
    allowed_targets: ["demo://resource/static/**"]
`);
    client = gateMcpClient(await connect([EVERYTHING_SERVER, "stdio"]), gate, {
      approvalHandler: (request) => {
        asked.push(request);
        if (answer instanceof Error) throw answer;
        return { approved: answer, approvedBy: "alice" };
      },
    });
  });
  afterAll(async () => {
    await client?.close();
  });

  it("reads an allowed resource and rejects a denied one with PermissionDeniedError", async () => {
    const { resources } = await client.listResources();
    const allowed = resources.find((r) => r.uri.startsWith("demo://resource/static/"));
    expect(allowed).toBeDefined();
    const ok = await client.readResource({ uri: allowed!.uri });
    expect(ok.contents.length).toBeGreaterThan(0);
    const err = await client.readResource({ uri: "demo://resource/dynamic/text/1" }).catch((e: unknown) => e);
    expect(PermissionDeniedError.isInstance(err)).toBe(true);
    expect((err as PermissionDeniedError).decision).toMatchObject({
      type: "deny",
      action: "data_access",
      code: "target_not_allowed",
    });
  });

  it("asks the approval handler once; an approval runs the call, a refusal does not", async () => {
    asked.length = 0;
    answer = true;
    const yes = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
    expect(yes.isError).toBeFalsy();
    expect(text(yes)).toContain("5");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ action: "tool_use", target: "get-sum", args: { a: 2, b: 3 } });
    expect(gate.decisions.at(-1)).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice" });

    answer = false;
    const no = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
    expect(no.isError).toBe(true);
    expect(text(no)).toContain("a human denied it (alice)");
    expect(asked).toHaveLength(2);
  });

  it("a throwing approval handler is a DENY that says so", async () => {
    answer = new Error("inbox offline");
    const r = await client.callTool({ name: "get-sum", arguments: { a: 1, b: 1 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("the approval handler failed: inbox offline");
  });

  it("without any approver, an escalation is denied with how to configure one", async () => {
    const plain = gateMcpClient(await connect([EVERYTHING_SERVER, "stdio"]), gate);
    try {
      const r = await plain.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/human approval required .*no approver is configured: .*elicitation.*approvalHandler/);
    } finally {
      await plain.close();
    }
  });
});
