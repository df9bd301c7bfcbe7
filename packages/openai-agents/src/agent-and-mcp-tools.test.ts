import { Agent, getAllMcpTools, RunState, type CallToolResultContent, type MCPServer } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

/** An in-process MCP server implementing the SDK's MCPServer interface. */
class InProcessMcpServer implements MCPServer {
  readonly name = "files";
  cacheToolsList = false;
  readonly calls: Array<{ tool: string; args: unknown }> = [];
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async invalidateToolsCache(): Promise<void> {}
  async listTools() {
    return [
      {
        name: "read_file",
        description: "Read a file",
        inputSchema: {
          type: "object" as const,
          properties: { path: { type: "string" } },
          required: ["path"],
          additionalProperties: false,
        },
      },
      {
        name: "delete_file",
        description: "Delete a file",
        inputSchema: {
          type: "object" as const,
          properties: { path: { type: "string" } },
          required: ["path"],
          additionalProperties: false,
        },
      },
    ];
  }
  async callTool(tool: string, args: Record<string, unknown> | null): Promise<CallToolResultContent> {
    this.calls.push({ tool, args });
    return [{ type: "text", text: `${tool} ok: ${String(args?.path)}` }];
  }
}

describe("agent.asTool() tools", () => {
  function researcher(reply: string) {
    const model = new ScriptedModel([[assistantMessage(reply)]]);
    const agent = new Agent({ name: "researcher", instructions: "research", model });
    return { model, agent };
  }

  it("runs the sub-agent only when the gate allows the call", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["ask_researcher"] }]);
    const allowed = researcher("42");
    const blocked = researcher("never");
    const tools = gateTools(
      [
        allowed.agent.asTool({ toolName: "ask_researcher", toolDescription: "Ask the researcher" }),
        blocked.agent.asTool({ toolName: "ask_intern", toolDescription: "Ask the intern" }),
      ],
      gate,
    );
    const [ok, no] = [callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("ask_researcher", { input: "meaning?" }, { callId: ok }),
        functionCall("ask_intern", { input: "meaning?" }, { callId: no }),
      ],
      [assistantMessage("done")],
    ]);
    await makeRunner().run(new Agent({ name: "lead", instructions: "", model, tools }), "go");
    expect(allowed.model.calls).toHaveLength(1);
    expect(blocked.model.calls).toHaveLength(0);
    const seen = toolResultsSeenByModel(model.calls);
    expect(seen.get(ok)).toBe("42");
    expect(JSON.parse(seen.get(no)!).denied).toBe(true);
  });

  it("resumes an escalation raised inside the sub-agent, after a string round-trip", async () => {
    const gate = await makeGate([
      { action: "tool_use", allowed: true, allowedTargets: ["deploy", "ask_deployer"], escalateTargets: ["deploy"] },
    ]);
    const ran: string[] = [];
    const inner = callId();
    const subModel = new ScriptedModel([
      [functionCall("deploy", { service: "api", env: "prod" }, { callId: inner })],
      [assistantMessage("deployed")],
    ]);
    const deployer = new Agent({
      name: "deployer",
      instructions: "",
      model: subModel,
      tools: gateTools([deployTool(ran)], gate),
    });
    const outerModel = new ScriptedModel([
      [functionCall("ask_deployer", { input: "ship api" }, { callId: callId() })],
      [assistantMessage("all done")],
    ]);
    const lead = new Agent({
      name: "lead",
      instructions: "",
      model: outerModel,
      tools: gateTools([deployer.asTool({ toolName: "ask_deployer", toolDescription: "Deploys" })], gate),
    });
    const runner = makeRunner();

    const paused = await runner.run(lead, "ship it");
    expect(paused.interruptions).toHaveLength(1);
    expect(paused.interruptions[0]!.agent.name).toBe("deployer");
    const state = await RunState.fromString(lead, paused.state.toString());
    const outcomes = await resolveGateInterruptions(state, gate, () => true);
    expect(outcomes).toMatchObject([{ approved: true, toolName: "deploy", callId: inner }]);
    const resumed = await runner.run(lead, state);
    expect(ran).toEqual(["api@prod"]);
    expect(resumed.finalOutput).toBe("all done");
  });
});

describe("MCP tools from getAllMcpTools()", () => {
  it("never reaches the server for a denied call; allowed calls go through", async () => {
    const gate = await makeGate([
      { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
      { action: "file_write", allowed: false },
    ]);
    const server = new InProcessMcpServer();
    const mcpTools = await getAllMcpTools([server]);
    const tools = gateTools(mcpTools, gate, {
      mapping: {
        read_file: { action: "file_read", target: (input: { path?: string }) => input.path },
        delete_file: { action: "file_write", target: (input: { path?: string }) => input.path },
      },
    });
    const [read, del] = [callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("read_file", { path: "/workspace/a.txt" }, { callId: read }),
        functionCall("delete_file", { path: "/workspace/a.txt" }, { callId: del }),
      ],
      [assistantMessage("done")],
    ]);
    const result = await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools }), "go");
    expect(result.finalOutput).toBe("done");
    expect(server.calls).toEqual([{ tool: "read_file", args: { path: "/workspace/a.txt" } }]);
    const seen = toolResultsSeenByModel(model.calls);
    expect(seen.get(read)).toMatch(/read_file ok/);
    expect(JSON.parse(seen.get(del)!)).toMatchObject({ denied: true, decision: "deny" });
  });
});
