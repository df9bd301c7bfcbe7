import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  type ApprovalHandler,
  type ApprovalRequest,
} from "@agentgate/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolResultSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateMcpServer } from "./gate-mcp-server.js";
import { text } from "./test-utils/proxy-harness.js";

const POLICY = `name: server-side
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [lookup]
  - action: file_write
    allowed: true
    allowed_targets: ["/srv/notes/**"]
    escalate_targets: ["/srv/notes/shared/**"]
`;

/** A real McpServer whose tool handlers count their runs, gated at the source, and a real Client. */
async function setup(
  elicit?: (message: string) => "accept" | "decline" | "cancel" | Promise<never>,
  approvalTimeoutMs?: number,
  approvalHandler?: ApprovalHandler,
) {
  const runs: string[] = [];
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("lookup", { inputSchema: { q: z.string() } }, async ({ q }) => {
    runs.push(`lookup:${q}`);
    return { content: [{ type: "text", text: `found ${q}` }] };
  });
  server.registerTool("save_note", { inputSchema: { path: z.string(), body: z.string() } }, async ({ path }) => {
    runs.push(`save:${path}`);
    return { content: [{ type: "text", text: `saved ${path}` }] };
  });
  server.registerTool("drop_table", { inputSchema: {} }, async () => {
    runs.push("drop");
    return { content: [{ type: "text", text: "dropped" }] };
  });
  const gate = new GateKeeper({
    identity: await AgentIdentity.create("notes-server"),
    policy: PermissionPolicy.parse(POLICY),
  });
  gateMcpServer(server, gate, {
    mapping: { save_note: { action: "file_write", target: "path" } },
    ...(approvalTimeoutMs ? { approvalTimeoutMs } : {}),
    ...(approvalHandler ? { approvalHandler } : {}),
  });
  const client = new Client({ name: "desk", version: "1.0.0" }, elicit ? { capabilities: { elicitation: {} } } : {});
  const messages: string[] = [];
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      const message = (req.params as { message: string }).message;
      messages.push(message);
      return { action: await elicit(message) };
    });
  }
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(b), client.connect(a)]);
  return { client, runs, gate, messages };
}

describe("gateMcpServer", () => {
  it("runs allowed tools, refuses denied ones before the handler, hides always-denied tools", async () => {
    const { client, runs } = await setup();
    expect(text(await client.callTool({ name: "lookup", arguments: { q: "x" } }))).toBe("found x");
    const denied = await client.callTool({ name: "save_note", arguments: { path: "/etc/passwd", body: "" } });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain('target "/etc/passwd" is not in allowed_targets');
    const traversal = await client.callTool({
      name: "save_note",
      arguments: { path: "/srv/notes/../../etc/passwd", body: "" },
    });
    expect(traversal.isError).toBe(true);
    expect(runs).toEqual(["lookup:x"]);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["lookup", "save_note"]);
    await client.close();
  });

  it("asks the client's user through elicitation: accept runs the call once", async () => {
    const { client, runs, gate, messages } = await setup(() => "accept");
    const r = await client.callTool({
      name: "save_note",
      arguments: { path: "/srv/notes/shared/plan.md", body: "ship \u202Eit" },
    });
    expect(text(r)).toBe("saved /srv/notes/shared/plan.md");
    expect(runs).toEqual(["save:/srv/notes/shared/plan.md"]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('Tool: "save_note"');
    expect(messages[0]).toContain('Target: "/srv/notes/shared/plan.md"');
    expect(messages[0]).toContain("\\u202e"); // the bidi override is shown escaped, never applied
    expect(messages[0]).not.toContain("\u202E");
    expect(gate.decisions.at(-1)).toMatchObject({
      type: "allow",
      code: "approved",
      approvedBy: 'user of MCP client "desk"',
    });
    await client.close();
  });

  it("decline (or dismiss) refuses the call", async () => {
    for (const answer of ["decline", "cancel"] as const) {
      const { client, runs, gate } = await setup(() => answer);
      const r = await client.callTool({
        name: "save_note",
        arguments: { path: "/srv/notes/shared/plan.md", body: "x" },
      });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("a human denied it");
      expect(runs).toEqual([]);
      expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "approval_denied" });
      await client.close();
    }
  });
});

describe("gateMcpServer with hostile or odd requests", () => {
  it("refuses tools/call without a string name or with non-object arguments, before any handler", async () => {
    const { client, runs, gate } = await setup();
    for (const params of [
      { name: 5, arguments: {} },
      { arguments: {} },
      { name: "lookup", arguments: ["q"] },
      { name: "lookup", arguments: "q=1" },
    ]) {
      const r = await client.request({ method: "tools/call", params: params as never }, CallToolResultSchema);
      expect(r.isError).toBe(true);
      expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "invalid_input" });
    }
    expect(runs).toEqual([]);
    await client.close();
  });

  it("an elicitation nobody answers is a DENY after approvalTimeoutMs, and the call never runs", async () => {
    const { client, runs, gate } = await setup(() => new Promise<never>(() => {}), 200);
    const r = await client.callTool({ name: "save_note", arguments: { path: "/srv/notes/shared/x", body: "" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("no answer to the approval request within 200 ms");
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "approval_error" });
    expect(runs).toEqual([]);
    await client.close();
  });
});

describe("gateMcpServer with an approvalHandler (the seam for an approvals inbox)", () => {
  it("asks it when the client cannot elicit; its answer decides, and the call runs once", async () => {
    const asked: ApprovalRequest[] = [];
    let approve = true;
    const { client, runs, gate } = await setup(undefined, undefined, (request) => {
      asked.push(request);
      return { approved: approve, approvedBy: "ops-inbox" };
    });
    const yes = await client.callTool({ name: "save_note", arguments: { path: "/srv/notes/shared/a", body: "b" } });
    expect(text(yes)).toBe("saved /srv/notes/shared/a");
    approve = false;
    const no = await client.callTool({ name: "save_note", arguments: { path: "/srv/notes/shared/a", body: "b" } });
    expect(no.isError).toBe(true);
    expect(runs).toEqual(["save:/srv/notes/shared/a"]);
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatchObject({
      action: "file_write",
      target: "/srv/notes/shared/a",
      args: { path: "/srv/notes/shared/a", body: "b" },
    });
    expect(asked[0]!.callId).toMatch(/^notes:/);
    expect(gate.decisions.filter((d) => d.code === "approved").map((d) => d.approvedBy)).toEqual(["ops-inbox"]);
    await client.close();
  });
});
